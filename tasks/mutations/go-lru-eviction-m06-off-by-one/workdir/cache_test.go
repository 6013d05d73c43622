package thumbcache

import (
	"bytes"
	"testing"
)

func TestGetMiss(t *testing.T) {
	c := New(2)
	if _, ok := c.Get("nope"); ok {
		t.Fatal("empty cache returned a value")
	}
	if got := c.Stats().Misses; got != 1 {
		t.Fatalf("misses = %d, want 1", got)
	}
}

func TestPutThenGet(t *testing.T) {
	c := New(2)
	c.Put("a", []byte("A"))
	got, ok := c.Get("a")
	if !ok || !bytes.Equal(got, []byte("A")) {
		t.Fatalf("Get(a) = %q, %v", got, ok)
	}
}

func TestNewClampsCapacity(t *testing.T) {
	c := New(0)
	c.Put("a", nil)
	c.Put("b", nil)
	if c.Len() != 1 {
		t.Fatalf("Len = %d, want 1", c.Len())
	}
}

func TestRemove(t *testing.T) {
	c := New(2)
	c.Put("a", nil)
	if !c.Remove("a") || c.Remove("a") {
		t.Fatal("Remove should report presence exactly once")
	}
	if c.Len() != 0 {
		t.Fatalf("Len = %d, want 0", c.Len())
	}
}

module example.com/thumbcache

go 1.19

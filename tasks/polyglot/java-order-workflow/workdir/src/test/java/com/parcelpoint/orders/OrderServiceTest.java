package com.parcelpoint.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class OrderServiceTest {
    private final OrderService service = new OrderService(new OrderWorkflow());

    @Test
    void eventsAreAppliedByName() {
        service.create("PP-1001", "ana@example.org", 4599);
        service.apply("PP-1001", "pay");
        service.apply("PP-1001", " PACK ");
        Order order = service.apply("PP-1001", "Ship");
        assertEquals(OrderStatus.SHIPPED, order.status());
        assertEquals(List.of(
                new Transition(OrderStatus.CREATED, OrderEvent.PAY, OrderStatus.PAID),
                new Transition(OrderStatus.PAID, OrderEvent.PACK, OrderStatus.PACKED),
                new Transition(OrderStatus.PACKED, OrderEvent.SHIP, OrderStatus.SHIPPED)), order.history());
    }

    @Test
    void cancellingAPaidOrderOwesARefund() {
        service.create("PP-1002", "ben@example.org", 1250);
        service.apply("PP-1002", "pay");
        assertEquals(0, service.refundDueCents("PP-1002"));
        service.apply("PP-1002", "cancel");
        assertEquals(1250, service.refundDueCents("PP-1002"));
        service.apply("PP-1002", "refund");
        assertEquals(OrderStatus.CANCELLED, service.get("PP-1002").status());
        assertEquals(0, service.refundDueCents("PP-1002"));
    }

    @Test
    void refusedEventLeavesTheOrderAlone() {
        service.create("PP-1003", "chloe@example.org", 990);
        assertThrows(IllegalTransitionException.class, () -> service.apply("PP-1003", "ship"));
        assertEquals(OrderStatus.CREATED, service.get("PP-1003").status());
        assertEquals(List.of(), service.get("PP-1003").history());
    }

    @Test
    void badInput() {
        assertThrows(NoSuchElementException.class, () -> service.apply("PP-404", "pay"));
        service.create("PP-1004", "dan@example.org", 100);
        assertThrows(IllegalArgumentException.class, () -> service.apply("PP-1004", "teleport"));
        assertThrows(IllegalArgumentException.class, () -> service.create("PP-1004", "dan@example.org", 100));
        assertThrows(IllegalArgumentException.class, () -> service.create("PP-1005", " ", 100));
        assertThrows(IllegalArgumentException.class, () -> service.create("PP-1006", "eve@example.org", 0));
    }
}

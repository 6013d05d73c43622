package com.parcelpoint.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OrderWorkflowTest {
    private final OrderWorkflow workflow = new OrderWorkflow();

    @Test
    void happyPath() {
        assertEquals(OrderStatus.PAID, workflow.next(OrderStatus.CREATED, OrderEvent.PAY));
        assertEquals(OrderStatus.PACKED, workflow.next(OrderStatus.PAID, OrderEvent.PACK));
        assertEquals(OrderStatus.SHIPPED, workflow.next(OrderStatus.PACKED, OrderEvent.SHIP));
        assertEquals(OrderStatus.DELIVERED, workflow.next(OrderStatus.SHIPPED, OrderEvent.DELIVER));
    }

    @Test
    void unpaidOrderIsCancelledAtOnce() {
        assertEquals(OrderStatus.CANCELLED, workflow.next(OrderStatus.CREATED, OrderEvent.CANCEL));
    }

    @Test
    void paidOrderWaitsForItsRefund() {
        assertEquals(OrderStatus.REFUND_PENDING, workflow.next(OrderStatus.PAID, OrderEvent.CANCEL));
        assertEquals(OrderStatus.CANCELLED, workflow.next(OrderStatus.REFUND_PENDING, OrderEvent.REFUND));
    }

    @Test
    void outOfOrderEventsAreRefused() {
        assertThrows(IllegalTransitionException.class, () -> workflow.next(OrderStatus.PAID, OrderEvent.PAY));
        assertThrows(IllegalTransitionException.class, () -> workflow.next(OrderStatus.PAID, OrderEvent.DELIVER));
        assertThrows(IllegalTransitionException.class, () -> workflow.next(OrderStatus.CREATED, OrderEvent.REFUND));
        assertFalse(workflow.allows(OrderStatus.CREATED, OrderEvent.SHIP));
        assertTrue(workflow.allows(OrderStatus.CREATED, OrderEvent.PAY));
    }

    @Test
    void closedOrdersCannotBeCancelled() {
        IllegalTransitionException e = assertThrows(IllegalTransitionException.class,
                () -> workflow.next(OrderStatus.DELIVERED, OrderEvent.CANCEL));
        assertEquals(OrderStatus.DELIVERED, e.status());
        assertEquals("cannot cancel an order that is delivered", e.getMessage());
        assertFalse(workflow.allows(OrderStatus.CANCELLED, OrderEvent.CANCEL));
        assertFalse(workflow.allows(OrderStatus.REFUND_PENDING, OrderEvent.CANCEL));
    }

    @Test
    void statusLabels() {
        assertEquals("Refund pending", OrderStatus.REFUND_PENDING.label());
        assertEquals("Paid", OrderStatus.PAID.label());
    }
}

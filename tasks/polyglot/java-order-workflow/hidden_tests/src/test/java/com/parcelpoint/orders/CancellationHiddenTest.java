package com.parcelpoint.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Scoring tests for ORD-552; copied into the work dir only when grading. */
class CancellationHiddenTest {
    private final OrderWorkflow workflow = new OrderWorkflow();

    @Test
    void shippedOrderCannotBeCancelled() {
        IllegalTransitionException e = assertThrows(IllegalTransitionException.class,
                () -> workflow.next(OrderStatus.SHIPPED, OrderEvent.CANCEL));
        assertEquals(OrderStatus.SHIPPED, e.status());
        assertEquals(OrderEvent.CANCEL, e.event());
        assertFalse(workflow.allows(OrderStatus.SHIPPED, OrderEvent.CANCEL));
    }

    @Test
    void packedOrderWaitsForItsRefund() {
        assertEquals(OrderStatus.REFUND_PENDING, workflow.next(OrderStatus.PACKED, OrderEvent.CANCEL));
    }

    @Test
    void cancelIsAllowedExactlyUntilTheOrderShips() {
        for (OrderStatus status : OrderStatus.values()) {
            boolean expected = status == OrderStatus.CREATED || status == OrderStatus.PAID
                    || status == OrderStatus.PACKED;
            assertEquals(expected, workflow.allows(status, OrderEvent.CANCEL), status.name());
        }
    }

    @Test
    void everyCancelledPaidOrderGoesThroughARefund() {
        for (OrderStatus status : OrderStatus.values()) {
            if (workflow.allows(status, OrderEvent.CANCEL)) {
                OrderStatus expected = status.isPaid() ? OrderStatus.REFUND_PENDING : OrderStatus.CANCELLED;
                assertEquals(expected, workflow.next(status, OrderEvent.CANCEL), status.name());
            }
        }
    }

    @Test
    void serviceRefundsAPackedOrder() {
        OrderService service = new OrderService(new OrderWorkflow());
        service.create("PP-2001", "fatou@example.org", 8900);
        service.apply("PP-2001", "pay");
        service.apply("PP-2001", "pack");
        service.apply("PP-2001", "cancel");
        assertEquals(OrderStatus.REFUND_PENDING, service.get("PP-2001").status());
        assertEquals(8900, service.refundDueCents("PP-2001"));
        Order order = service.apply("PP-2001", "refund");
        assertEquals(OrderStatus.CANCELLED, order.status());
        assertEquals(4, order.history().size());
        assertEquals(new Transition(OrderStatus.PACKED, OrderEvent.CANCEL, OrderStatus.REFUND_PENDING),
                order.history().get(2));
    }

    @Test
    void serviceRefusesToCancelAShippedOrder() {
        OrderService service = new OrderService(new OrderWorkflow());
        service.create("PP-2002", "gus@example.org", 3100);
        for (String event : List.of("pay", "pack", "ship")) {
            service.apply("PP-2002", event);
        }
        assertThrows(IllegalTransitionException.class, () -> service.apply("PP-2002", "cancel"));
        Order order = service.get("PP-2002");
        assertEquals(OrderStatus.SHIPPED, order.status());
        assertEquals(3, order.history().size());
        assertEquals(0, service.refundDueCents("PP-2002"));
        assertTrue(workflow.allows(order.status(), OrderEvent.DELIVER));
    }
}

package com.parcelpoint.orders;

/** The order lifecycle rules (see README): which event takes an order from which status where. */
public final class OrderWorkflow {
    /**
     * The status an order in {@code from} moves to on {@code event}.
     *
     * @throws IllegalTransitionException when {@code from} does not allow {@code event}
     */
    public OrderStatus next(OrderStatus from, OrderEvent event) {
        OrderStatus to = switch (event) {
            case PAY -> from == OrderStatus.CREATED ? OrderStatus.PAID : null;
            case PACK -> from == OrderStatus.PAID ? OrderStatus.PACKED : null;
            case SHIP -> from == OrderStatus.PACKED ? OrderStatus.SHIPPED : null;
            case DELIVER -> from == OrderStatus.SHIPPED ? OrderStatus.DELIVERED : null;
            case CANCEL -> afterCancel(from);
            case REFUND -> from == OrderStatus.REFUND_PENDING ? OrderStatus.CANCELLED : null;
        };
        if (to == null) {
            throw new IllegalTransitionException(from, event);
        }
        return to;
    }

    /** Whether {@code event} is allowed in {@code from}. */
    public boolean allows(OrderStatus from, OrderEvent event) {
        try {
            next(from, event);
            return true;
        } catch (IllegalTransitionException e) {
            return false;
        }
    }

    private static OrderStatus afterCancel(OrderStatus from) {
        // Orders can be cancelled until they leave the warehouse; the customer's money comes back
        // through REFUND_PENDING when they had paid.
        return switch (from) {
            case CREATED -> OrderStatus.CANCELLED;
            case PAID, PACKED -> OrderStatus.REFUND_PENDING;
            case SHIPPED, DELIVERED, REFUND_PENDING, CANCELLED -> null;
        };
    }
}

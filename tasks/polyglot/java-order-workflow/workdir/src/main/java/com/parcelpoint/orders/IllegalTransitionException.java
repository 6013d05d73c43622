package com.parcelpoint.orders;

/** An event that the order's current status does not allow. */
public final class IllegalTransitionException extends RuntimeException {
    private final OrderStatus status;
    private final OrderEvent event;

    public IllegalTransitionException(OrderStatus status, OrderEvent event) {
        super("cannot " + event.name().toLowerCase() + " an order that is " + status.label().toLowerCase());
        this.status = status;
        this.event = event;
    }

    public OrderStatus status() {
        return status;
    }

    public OrderEvent event() {
        return event;
    }
}

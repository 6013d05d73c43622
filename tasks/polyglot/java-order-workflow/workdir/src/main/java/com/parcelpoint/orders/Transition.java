package com.parcelpoint.orders;

/** One step in an order's history. */
public record Transition(OrderStatus from, OrderEvent event, OrderStatus to) {
}

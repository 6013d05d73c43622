package com.parcelpoint.orders;

import java.util.Locale;
import org.apache.commons.lang3.StringUtils;

/** Where an order is in its lifecycle, in lifecycle order. */
public enum OrderStatus {
    CREATED,
    PAID,
    PACKED,
    SHIPPED,
    DELIVERED,
    REFUND_PENDING,
    CANCELLED;

    /** True once nothing can happen to the order any more. */
    public boolean isTerminal() {
        return this == DELIVERED || this == CANCELLED;
    }

    /** True while the shop holds the customer's money for goods not yet shipped. */
    public boolean isPaid() {
        return this == PAID || this == PACKED;
    }

    /** How the storefront shows the status, e.g. "Refund pending". */
    public String label() {
        return StringUtils.capitalize(name().toLowerCase(Locale.ROOT).replace('_', ' '));
    }
}

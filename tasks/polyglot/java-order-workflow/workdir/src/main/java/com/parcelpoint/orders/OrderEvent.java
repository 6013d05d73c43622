package com.parcelpoint.orders;

import org.apache.commons.lang3.EnumUtils;
import org.apache.commons.lang3.StringUtils;

/** What can happen to an order; the API receives them by name ("pay", "cancel", ...). */
public enum OrderEvent {
    PAY,
    PACK,
    SHIP,
    DELIVER,
    CANCEL,
    REFUND;

    /** The event named {@code name}, ignoring case and surrounding blanks. */
    public static OrderEvent parse(String name) {
        OrderEvent event = EnumUtils.getEnumIgnoreCase(OrderEvent.class, StringUtils.strip(name));
        if (event == null) {
            throw new IllegalArgumentException("unknown order event: '" + name + "'");
        }
        return event;
    }
}

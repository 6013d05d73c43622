package com.northwind.billing;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Rounding and formatting of euro amounts. */
public final class Money {
    /** Zero euros, with two decimals. */
    public static final BigDecimal ZERO = new BigDecimal("0.00");

    private Money() {
    }

    /** {@code amount} rounded to the cent, half-up (0.005 -> 0.01), as the accounting export requires. */
    public static BigDecimal cents(BigDecimal amount) {
        return amount.setScale(2, RoundingMode.HALF_UP);
    }

    /** {@code amount} as printed on an invoice: two decimals and a euro sign, e.g. "1234.50 EUR". */
    public static String format(BigDecimal amount) {
        return cents(amount).toPlainString() + " EUR";
    }
}

package com.northwind.billing;

import java.math.BigDecimal;

/** VAT rates applied to invoice lines. */
public enum TaxRate {
    STANDARD("20"),
    INTERMEDIATE("10"),
    REDUCED("5.5"),
    ZERO("0");

    private final BigDecimal percent;

    TaxRate(String percent) {
        this.percent = new BigDecimal(percent);
    }

    /** The rate as a percentage, e.g. 5.5 for 5.5 %. */
    public BigDecimal percent() {
        return percent;
    }

    /** The rate as a fraction, e.g. 0.055 for 5.5 %. */
    public BigDecimal fraction() {
        return percent.movePointLeft(2);
    }
}

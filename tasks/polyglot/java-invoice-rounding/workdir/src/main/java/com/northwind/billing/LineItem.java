package com.northwind.billing;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * One invoice line: {@code quantity} units of {@code sku} at {@code unitPrice} each, less
 * {@code discountPercent} percent, taxed at {@code taxRate}.
 */
public final class LineItem {
    private final String sku;
    private final String description;
    private final int quantity;
    private final BigDecimal unitPrice;
    private final BigDecimal discountPercent;
    private final TaxRate taxRate;

    public LineItem(String sku, String description, int quantity, BigDecimal unitPrice,
            BigDecimal discountPercent, TaxRate taxRate) {
        if (quantity <= 0) {
            throw new IllegalArgumentException("quantity must be positive: " + quantity);
        }
        if (unitPrice.signum() < 0) {
            throw new IllegalArgumentException("unit price must not be negative: " + unitPrice);
        }
        if (discountPercent.signum() < 0 || discountPercent.compareTo(new BigDecimal("100")) > 0) {
            throw new IllegalArgumentException("discount must be within 0..100 %: " + discountPercent);
        }
        this.sku = Objects.requireNonNull(sku, "sku");
        this.description = Objects.requireNonNull(description, "description");
        this.quantity = quantity;
        this.unitPrice = unitPrice;
        this.discountPercent = discountPercent;
        this.taxRate = Objects.requireNonNull(taxRate, "taxRate");
    }

    /** A line without discount. */
    public static LineItem of(String sku, int quantity, String unitPrice, TaxRate taxRate) {
        return new LineItem(sku, sku, quantity, new BigDecimal(unitPrice), BigDecimal.ZERO, taxRate);
    }

    /** The same line with a discount of {@code percent} percent. */
    public LineItem withDiscount(String percent) {
        return new LineItem(sku, description, quantity, unitPrice, new BigDecimal(percent), taxRate);
    }

    public String sku() {
        return sku;
    }

    public String description() {
        return description;
    }

    public int quantity() {
        return quantity;
    }

    public BigDecimal unitPrice() {
        return unitPrice;
    }

    public BigDecimal discountPercent() {
        return discountPercent;
    }

    public TaxRate taxRate() {
        return taxRate;
    }
}

package com.northwind.billing;

import java.math.BigDecimal;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/** The totals printed at the bottom of an invoice. */
public final class InvoiceTotals {
    private final BigDecimal net;
    private final Map<TaxRate, BigDecimal> taxByRate;
    private final BigDecimal tax;
    private final BigDecimal gross;

    public InvoiceTotals(BigDecimal net, Map<TaxRate, BigDecimal> taxByRate) {
        this.net = net;
        EnumMap<TaxRate, BigDecimal> copy = new EnumMap<>(TaxRate.class);
        copy.putAll(taxByRate);
        this.taxByRate = Collections.unmodifiableMap(copy);
        this.tax = copy.values().stream().reduce(Money.ZERO, BigDecimal::add);
        this.gross = net.add(tax);
    }

    /** Sum of the lines' net amounts. */
    public BigDecimal net() {
        return net;
    }

    /** Tax per VAT rate present on the invoice, in {@link TaxRate} order. */
    public Map<TaxRate, BigDecimal> taxByRate() {
        return taxByRate;
    }

    /** Sum of all taxes. */
    public BigDecimal tax() {
        return tax;
    }

    /** Net plus tax: the amount due. */
    public BigDecimal gross() {
        return gross;
    }
}

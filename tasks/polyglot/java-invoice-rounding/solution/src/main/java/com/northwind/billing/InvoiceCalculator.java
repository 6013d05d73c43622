package com.northwind.billing;

import java.math.BigDecimal;
import java.util.EnumMap;
import java.util.Map;

/** Computes line and invoice amounts following the rules in the README. */
public final class InvoiceCalculator {
    private static final BigDecimal HUNDRED = new BigDecimal("100");

    /** The line's net amount: quantity × unit price, less the discount, in cents. */
    public BigDecimal lineNet(LineItem line) {
        BigDecimal total = line.unitPrice().multiply(BigDecimal.valueOf(line.quantity()));
        BigDecimal discount = total.multiply(line.discountPercent()).divide(HUNDRED);
        return Money.cents(total.subtract(discount));
    }

    /** The tax charged on the line, in cents. */
    public BigDecimal lineTax(LineItem line) {
        return Money.cents(lineNet(line).multiply(line.taxRate().fraction()));
    }

    /** The line's net amount plus its tax. */
    public BigDecimal lineGross(LineItem line) {
        return lineNet(line).add(lineTax(line));
    }

    /** Totals of the whole invoice: sums of the rounded line amounts. */
    public InvoiceTotals totals(Invoice invoice) {
        BigDecimal net = Money.ZERO;
        Map<TaxRate, BigDecimal> taxByRate = new EnumMap<>(TaxRate.class);
        for (LineItem line : invoice.lines()) {
            net = net.add(lineNet(line));
            taxByRate.merge(line.taxRate(), lineTax(line), BigDecimal::add);
        }
        return new InvoiceTotals(net, taxByRate);
    }
}

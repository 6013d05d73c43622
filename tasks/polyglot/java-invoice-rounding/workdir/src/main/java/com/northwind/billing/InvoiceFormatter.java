package com.northwind.billing;

import java.math.BigDecimal;
import java.util.Map;

/** Renders an invoice as the plain text the PDF job lays out. */
public final class InvoiceFormatter {
    private final InvoiceCalculator calculator;

    public InvoiceFormatter(InvoiceCalculator calculator) {
        this.calculator = calculator;
    }

    public String render(Invoice invoice) {
        StringBuilder out = new StringBuilder();
        out.append("Invoice ").append(invoice.number()).append('\n');
        out.append("Customer: ").append(invoice.customer()).append('\n');
        out.append('\n');
        for (LineItem line : invoice.lines()) {
            out.append(String.format("%-12s %4d x %10s %16s%n", line.sku(), line.quantity(),
                    line.unitPrice().toPlainString(), Money.format(calculator.lineNet(line))));
        }
        InvoiceTotals totals = calculator.totals(invoice);
        out.append('\n');
        out.append(String.format("%-30s %16s%n", "Net", Money.format(totals.net())));
        for (Map.Entry<TaxRate, BigDecimal> tax : totals.taxByRate().entrySet()) {
            String label = "VAT " + tax.getKey().percent().toPlainString() + " %";
            out.append(String.format("%-30s %16s%n", label, Money.format(tax.getValue())));
        }
        out.append(String.format("%-30s %16s%n", "Total due", Money.format(totals.gross())));
        return out.toString();
    }
}

package com.northwind.billing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Scoring tests for BILL-311; copied into the work dir only when grading. */
class InvoiceRoundingHiddenTest {
    private final InvoiceCalculator calc = new InvoiceCalculator();

    private static BigDecimal eur(String amount) {
        return new BigDecimal(amount);
    }

    @Test
    void centsRoundHalfUp() {
        assertEquals(eur("0.13"), Money.cents(eur("0.125")));
        assertEquals(eur("2.67"), Money.cents(eur("2.665")));
        assertEquals(eur("2.66"), Money.cents(eur("2.6649")));
        assertEquals("0.05 EUR", Money.format(eur("0.045")));
    }

    @Test
    void taxOnAHalfCentRoundsUp() {
        // 0.25 x 10 % = 0.025 -> 0.03; 0.45 x 10 % = 0.045 -> 0.05
        assertEquals(eur("0.03"), calc.lineTax(LineItem.of("PEN-1", 1, "0.25", TaxRate.INTERMEDIATE)));
        assertEquals(eur("0.05"), calc.lineTax(LineItem.of("PEN-2", 1, "0.45", TaxRate.INTERMEDIATE)));
    }

    @Test
    void discountAppliesToTheLineTotalNotToEachUnit() {
        // 12 x 2.49 = 29.88, less 33 % = 20.0196 -> 20.02 (not 12 x 1.67 = 20.04)
        LineItem cables = LineItem.of("CABLE-USB", 12, "2.49", TaxRate.STANDARD).withDiscount("33");
        assertEquals(eur("20.02"), calc.lineNet(cables));
        assertEquals(eur("4.00"), calc.lineTax(cables));
    }

    @Test
    void discountedLineRoundsHalfUpOnce() {
        // 7 x 1.25 = 8.75, less 10 % = 7.875 -> 7.88 (not 7 x 1.12 = 7.84)
        LineItem pens = LineItem.of("PEN-BLUE", 7, "1.25", TaxRate.STANDARD).withDiscount("10");
        assertEquals(eur("7.88"), calc.lineNet(pens));
        assertEquals(eur("1.58"), calc.lineTax(pens));
        assertEquals(eur("9.46"), calc.lineGross(pens));
    }

    @Test
    void fullDiscountGivesZeroLine() {
        LineItem gift = LineItem.of("GIFT", 3, "9.99", TaxRate.STANDARD).withDiscount("100");
        assertEquals(eur("0.00"), calc.lineNet(gift));
        assertEquals(eur("0.00"), calc.lineTax(gift));
    }

    @Test
    void invoiceTotalsMatchTheAccountingExport() {
        Invoice invoice = new Invoice("F-2024-0311", "Brasserie du Port", List.of(
                LineItem.of("PEN-BLUE", 7, "1.25", TaxRate.STANDARD).withDiscount("10"),
                LineItem.of("CABLE-USB", 12, "2.49", TaxRate.STANDARD).withDiscount("33"),
                LineItem.of("PEN-1", 1, "0.25", TaxRate.INTERMEDIATE),
                LineItem.of("TEA-250", 3, "4.15", TaxRate.REDUCED).withDiscount("5")));
        InvoiceTotals totals = calc.totals(invoice);
        // lines: 7.88 + 20.02 + 0.25 + 11.83 (12.45 less 5 % = 11.8275)
        assertEquals(eur("39.98"), totals.net());
        // 20 %: 1.58 + 4.00; 10 %: 0.03; 5.5 %: 0.65 (0.65065)
        assertEquals(eur("5.58"), totals.taxByRate().get(TaxRate.STANDARD));
        assertEquals(eur("0.03"), totals.taxByRate().get(TaxRate.INTERMEDIATE));
        assertEquals(eur("0.65"), totals.taxByRate().get(TaxRate.REDUCED));
        assertEquals(eur("6.26"), totals.tax());
        assertEquals(eur("46.24"), totals.gross());
        BigDecimal sumOfLines = invoice.lines().stream().map(calc::lineGross)
                .reduce(Money.ZERO, BigDecimal::add);
        assertEquals(sumOfLines, totals.gross());
    }
}

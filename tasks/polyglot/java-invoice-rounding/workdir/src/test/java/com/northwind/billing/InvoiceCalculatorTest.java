package com.northwind.billing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

class InvoiceCalculatorTest {
    private final InvoiceCalculator calc = new InvoiceCalculator();

    private static BigDecimal eur(String amount) {
        return new BigDecimal(amount);
    }

    @Test
    void lineNetIsQuantityTimesUnitPrice() {
        assertEquals(eur("59.97"), calc.lineNet(LineItem.of("MUG-01", 3, "19.99", TaxRate.STANDARD)));
    }

    @Test
    void lineNetAppliesTheDiscount() {
        LineItem chairs = LineItem.of("CHAIR-2", 2, "50.00", TaxRate.STANDARD).withDiscount("10");
        assertEquals(eur("90.00"), calc.lineNet(chairs));
    }

    @Test
    void lineTaxIsRoundedToTheCent() {
        assertEquals(eur("11.99"), calc.lineTax(LineItem.of("MUG-01", 3, "19.99", TaxRate.STANDARD)));
        assertEquals(eur("0.46"), calc.lineTax(LineItem.of("TEA-250", 2, "4.20", TaxRate.REDUCED)));
    }

    @Test
    void zeroRatedLinesCarryNoTax() {
        LineItem book = LineItem.of("BOOK-9", 1, "12.50", TaxRate.ZERO);
        assertEquals(eur("0.00"), calc.lineTax(book));
        assertEquals(eur("12.50"), calc.lineGross(book));
    }

    @Test
    void totalsGroupTaxByRate() {
        Invoice invoice = new Invoice("F-2024-0042", "Atelier Dubois", List.of(
                LineItem.of("MUG-01", 3, "19.99", TaxRate.STANDARD),
                LineItem.of("TEA-250", 2, "4.20", TaxRate.REDUCED)));
        InvoiceTotals totals = calc.totals(invoice);
        assertEquals(eur("68.37"), totals.net());
        assertEquals(eur("11.99"), totals.taxByRate().get(TaxRate.STANDARD));
        assertEquals(eur("0.46"), totals.taxByRate().get(TaxRate.REDUCED));
        assertEquals(eur("12.45"), totals.tax());
        assertEquals(eur("80.82"), totals.gross());
    }

    @Test
    void emptyInvoiceTotalsAreZero() {
        InvoiceTotals totals = calc.totals(new Invoice("F-0", "Nobody", List.of()));
        assertEquals(eur("0.00"), totals.net());
        assertEquals(eur("0.00"), totals.gross());
        assertTrue(totals.taxByRate().isEmpty());
    }

    @Test
    void invalidLinesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> LineItem.of("X", 0, "1.00", TaxRate.ZERO));
        assertThrows(IllegalArgumentException.class,
                () -> LineItem.of("X", 1, "1.00", TaxRate.ZERO).withDiscount("120"));
    }
}

package com.northwind.billing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

class InvoiceFormatterTest {
    @Test
    void moneyIsPrintedWithTwoDecimals() {
        assertEquals("12.30 EUR", Money.format(new BigDecimal("12.3")));
        assertEquals("0.00 EUR", Money.format(BigDecimal.ZERO));
    }

    @Test
    void renderedInvoiceShowsLinesAndTotals() {
        Invoice invoice = new Invoice("F-2024-0042", "Atelier Dubois", List.of(
                LineItem.of("MUG-01", 3, "19.99", TaxRate.STANDARD),
                LineItem.of("TEA-250", 2, "4.20", TaxRate.REDUCED)));
        String text = new InvoiceFormatter(new InvoiceCalculator()).render(invoice);
        assertTrue(text.startsWith("Invoice F-2024-0042\nCustomer: Atelier Dubois\n"), text);
        assertTrue(text.contains("MUG-01"), text);
        assertTrue(text.contains("59.97 EUR"), text);
        assertTrue(text.contains("VAT 5.5 %"), text);
        assertTrue(text.contains("Total due"), text);
        assertTrue(text.contains("80.82 EUR"), text);
    }
}

package com.northwind.billing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/** An invoice: its number, the customer it is addressed to, and its lines in order. */
public final class Invoice {
    private final String number;
    private final String customer;
    private final List<LineItem> lines;

    public Invoice(String number, String customer, List<LineItem> lines) {
        this.number = Objects.requireNonNull(number, "number");
        this.customer = Objects.requireNonNull(customer, "customer");
        this.lines = Collections.unmodifiableList(new ArrayList<>(lines));
    }

    public String number() {
        return number;
    }

    public String customer() {
        return customer;
    }

    public List<LineItem> lines() {
        return lines;
    }
}

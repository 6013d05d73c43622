package com.parcelpoint.orders;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.commons.lang3.Validate;

/** An order: who placed it, how much it costs, where it is, and how it got there. */
public final class Order {
    private final String id;
    private final String customer;
    private final long amountCents;
    private OrderStatus status = OrderStatus.CREATED;
    private final List<Transition> history = new ArrayList<>();

    public Order(String id, String customer, long amountCents) {
        this.id = Validate.notBlank(id, "order id must not be blank");
        this.customer = Validate.notBlank(customer, "customer must not be blank");
        Validate.isTrue(amountCents > 0, "amount must be positive: %d", amountCents);
        this.amountCents = amountCents;
    }

    public String id() {
        return id;
    }

    public String customer() {
        return customer;
    }

    public long amountCents() {
        return amountCents;
    }

    public OrderStatus status() {
        return status;
    }

    public List<Transition> history() {
        return Collections.unmodifiableList(history);
    }

    void record(Transition transition) {
        Validate.isTrue(transition.from() == status, "transition from %s but order is %s",
                transition.from(), status);
        history.add(transition);
        status = transition.to();
    }
}

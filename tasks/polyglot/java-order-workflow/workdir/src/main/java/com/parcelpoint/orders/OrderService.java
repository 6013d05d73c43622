package com.parcelpoint.orders;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.commons.lang3.Validate;

/** What the storefront and the warehouse call: create orders and apply events to them by name. */
public final class OrderService {
    private final OrderWorkflow workflow;
    private final Map<String, Order> orders = new LinkedHashMap<>();

    public OrderService(OrderWorkflow workflow) {
        this.workflow = Validate.notNull(workflow, "workflow");
    }

    public Order create(String id, String customer, long amountCents) {
        Validate.isTrue(!orders.containsKey(id), "order %s already exists", id);
        Order order = new Order(id, customer, amountCents);
        orders.put(id, order);
        return order;
    }

    public Order get(String id) {
        Order order = orders.get(id);
        if (order == null) {
            throw new NoSuchElementException("no order " + id);
        }
        return order;
    }

    /**
     * Applies the event named {@code eventName} ("pay", "cancel", ...) to the order.
     *
     * @throws IllegalTransitionException when the order's status does not allow it; the order is unchanged
     */
    public Order apply(String id, String eventName) {
        Order order = get(id);
        OrderEvent event = OrderEvent.parse(eventName);
        OrderStatus to = workflow.next(order.status(), event);
        order.record(new Transition(order.status(), event, to));
        return order;
    }

    /** What the payments team owes the customer of the order right now, in cents. */
    public long refundDueCents(String id) {
        Order order = get(id);
        return order.status() == OrderStatus.REFUND_PENDING ? order.amountCents() : 0;
    }
}

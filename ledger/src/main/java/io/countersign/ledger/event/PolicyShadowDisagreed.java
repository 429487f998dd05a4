package io.countersign.ledger.event;

/**
 * {@code policy.shadow_disagreed}: the shadow (candidate) policy decided differently from the
 * enforced one on live traffic; never enforced.
 *
 * @param enforced the decision in force
 * @param shadow the candidate's decision
 */
public record PolicyShadowDisagreed(DecisionRecord enforced, DecisionRecord shadow)
    implements EventBody {}

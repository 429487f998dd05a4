/**
 * Spend per agent, workflow and account for the day, which the policy reads as
 * input.context.spend.
 */
package io.countersign.proxy.budget;

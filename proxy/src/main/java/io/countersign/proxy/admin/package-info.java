/**
 * The admin port (never agent-facing): health, readiness, metrics, the approval API and the policy
 * API; approvers authenticate here.
 */
package io.countersign.proxy.admin;

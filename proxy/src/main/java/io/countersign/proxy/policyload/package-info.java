/**
 * Loading a policy folder into an engine, reloading it on change or request, and retiring the
 * replaced one.
 */
package io.countersign.proxy.policyload;

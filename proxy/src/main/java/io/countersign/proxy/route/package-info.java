/**
 * Routes: a path prefix the agent uses, the upstream it leads to, the credential injected and how
 * strictly its requests are read.
 */
package io.countersign.proxy.route;

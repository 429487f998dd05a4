/**
 * The configuration file: its schema (the one source of keys, types, ranges and defaults), the
 * records it binds onto, the rules across keys, and the validated ProxyConfig.
 */
package io.countersign.proxy.config;

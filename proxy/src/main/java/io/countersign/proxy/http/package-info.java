/**
 * The agent port: its pipeline, the adapter between the port and the exchange flow, async tickets,
 * and the drain at shutdown. Netty lives here and in admin, upstream and the flow's buffers,
 * nowhere outside proxy.
 */
package io.countersign.proxy.http;

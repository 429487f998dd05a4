package io.countersign.proxy.canonical;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The parsed form of a request body: what the policy reads as {@code input.request.body} and
 * {@code input.request.body_nested}, and what the ledger records in place of the bytes. Built
 * only from the exact bytes forwarded, so it never says more or less than the upstream receives.
 *
 * @param kind what the body is
 * @param view the policy's {@code request.body}: for {@link BodyKind#JSON} the JSON value; for
 *     {@link BodyKind#FORM} an object of names (verbatim, brackets included) to arrays of string
 *     values in request order; for {@link BodyKind#MULTIPART} {@code {"fields": {name: [value,
 *     ...]}, "files": [{"name", "filename", "type", "size", "sha256"}, ...]}}; for {@link
 *     BodyKind#TEXT} the text; null for {@link BodyKind#NONE} and {@link BodyKind#OPAQUE}
 * @param nested the policy's {@code request.body_nested}, for forms and multipart only (else
 *     null): bracket names ({@code metadata[order_id]}, {@code items[0][price]}, {@code tags[]})
 *     read as nested objects, leaves as arrays of values (files as their description objects),
 *     the way PHP, Rails, Rack and qs read them
 * @param mediaType the declared media type without parameters (e.g. {@code
 *     application/x-www-form-urlencoded}), or null when none was declared
 */
public record CanonicalBody(BodyKind kind, JsonNode view, JsonNode nested, String mediaType) {
  static final CanonicalBody NONE = new CanonicalBody(BodyKind.NONE, null, null, null);

  /** A body forwarded as it was recorded, without being parsed again (a restored held request). */
  static CanonicalBody unparsed(int size) {
    return size == 0 ? NONE : new CanonicalBody(BodyKind.OPAQUE, null, null, null);
  }
}

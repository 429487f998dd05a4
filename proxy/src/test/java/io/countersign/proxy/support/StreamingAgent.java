package io.countersign.proxy.support;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * An agent on a raw socket that reads a streamed answer piece by piece: the head, then the body
 * decoded from its chunked framing (or up to the close for an HTTP/1.0 answer), so a test sees
 * each piece when it arrives and whether the body ended properly or was cut.
 */
public final class StreamingAgent implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();
  private String head;
  private boolean chunked;
  private long length = -1; // Content-Length, when the answer has one
  private boolean ended;
  private boolean cut;

  /** Connects to {@code proxy} and sends {@code request} (ISO-8859-1). */
  public StreamingAgent(InetSocketAddress proxy, String request, int receiveBuffer) {
    try {
      socket = new Socket();
      if (receiveBuffer > 0) {
        socket.setReceiveBufferSize(receiveBuffer);
      }
      socket.connect(proxy, 5000);
      socket.setSoTimeout(200);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads the answer's head (within {@code timeout}). */
  public String head(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    ByteArrayOutputStream h = new ByteArrayOutputStream();
    while (!h.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = readByte(deadline);
      if (b < 0) {
        throw new AssertionError("the proxy closed before the head ended: " + h);
      }
      h.write(b);
    }
    head = h.toString(StandardCharsets.ISO_8859_1);
    String lower = head.toLowerCase(Locale.ROOT);
    chunked = lower.contains("\r\ntransfer-encoding: chunked\r\n");
    int at = lower.indexOf("\r\ncontent-length:");
    if (!chunked && at >= 0) {
      length = Long.parseLong(lower.substring(at + 17, lower.indexOf("\r\n", at + 2)).strip());
      ended = length == 0;
    }
    return head;
  }

  /** The {@code X-Countersign-Exchange-Id} of the head read by {@link #head}. */
  public String exchangeId() {
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("x-countersign-exchange-id:")) {
        return line.substring(line.indexOf(':') + 1).strip();
      }
    }
    throw new AssertionError("no exchange id in " + head);
  }

  /** Reads the body until it holds {@code text}; fails when it does not within {@code timeout}. */
  public String awaitBody(String text, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!body().contains(text)) {
      if (ended || cut) {
        throw new AssertionError("the body ended without " + text + ": " + body());
      }
      step(deadline);
    }
    return body();
  }

  /** Reads the body to its end or cut (within {@code timeout}). */
  public String readToEnd(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!ended && !cut) {
      step(deadline);
    }
    return body();
  }

  /** The body so far, as UTF-8. */
  public String body() {
    return body.toString(StandardCharsets.UTF_8);
  }

  /** The body's bytes so far. */
  public byte[] bodyBytes() {
    return body.toByteArray();
  }

  /** Whether the body ended properly (last chunk, Content-Length reached; for HTTP/1.0, the close). */
  public boolean ended() {
    return ended;
  }

  /** Whether the connection was cut before the body ended. */
  public boolean cut() {
    return cut;
  }

  private void step(long deadline) {
    if (!chunked) {
      int b = readByte(deadline);
      if (b < 0) {
        ended = length < 0; // delimited by the close; with a length, a close before it is a cut
        cut = !ended;
      } else {
        body.write(b);
        ended = body.size() == length;
      }
      return;
    }
    String sizeLine = line(deadline);
    if (sizeLine == null) {
      cut = true;
      return;
    }
    int size = Integer.parseInt(sizeLine.split(";", 2)[0].strip(), 16);
    if (size == 0) {
      line(deadline); // the empty line after the last chunk (no trailers are sent)
      ended = true;
      return;
    }
    for (int i = 0; i < size; i++) {
      int b = readByte(deadline);
      if (b < 0) {
        cut = true;
        return;
      }
      body.write(b);
    }
    if (line(deadline) == null) {
      cut = true;
    }
  }

  private String line(long deadline) {
    ByteArrayOutputStream l = new ByteArrayOutputStream();
    while (true) {
      int b = readByte(deadline);
      if (b < 0) {
        return null;
      }
      if (b == '\n') {
        String s = l.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      l.write(b);
    }
  }

  private int readByte(long deadline) {
    while (true) {
      try {
        return in.read();
      } catch (SocketTimeoutException e) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("nothing more came in time; body so far: " + body());
        }
      } catch (IOException e) {
        return -1; // reset: cut
      }
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closed
    }
  }
}

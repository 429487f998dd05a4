package io.countersign.proxy.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A loopback upstream the test drives byte by byte: each connection is handed to the test after
 * its request head was read, and the test writes the answer when and how it wants (a stream's
 * pieces, a broken framing, a pause). Stands in for a business API or an LLM server.
 */
public final class ScriptedUpstream implements AutoCloseable {
  private final ServerSocket server;
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final BlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();

  /** One connection from the proxy, with the request head that came on it. */
  public static final class Connection {
    private final Socket socket;
    private final String requestHead;

    Connection(Socket socket, String requestHead) {
      this.socket = socket;
      this.requestHead = requestHead;
    }

    /** The request line and headers, as received. */
    public String requestHead() {
      return requestHead;
    }

    /** Writes (and flushes) {@code text} as ISO-8859-1 bytes. */
    public Connection write(String text) {
      return write(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Writes (and flushes) bytes; blocks while the proxy does not read. */
    public Connection write(byte[] bytes) {
      try {
        OutputStream out = socket.getOutputStream();
        out.write(bytes);
        out.flush();
        return this;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Writes one chunk of a chunked body. */
    public Connection chunk(String text) {
      byte[] b = text.getBytes(StandardCharsets.UTF_8);
      write(Integer.toHexString(b.length) + "\r\n");
      write(b);
      return write("\r\n");
    }

    /** Whether the proxy closed its side within {@code timeout} (a read sees the end). */
    public boolean closedByProxy(Duration timeout) {
      try {
        socket.setSoTimeout((int) timeout.toMillis());
        InputStream in = socket.getInputStream();
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buf = new byte[4096];
        while (System.nanoTime() < deadline) {
          if (in.read(buf) < 0) {
            return true;
          }
        }
        return false;
      } catch (SocketTimeoutException e) {
        return false;
      } catch (IOException e) {
        return true; // reset: closed too
      }
    }

    /** Closes the connection (for a close-delimited body, its end). */
    public void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // already closed
      }
    }
  }

  /** Listens on 127.0.0.1, a free port. */
  public ScriptedUpstream() {
    try {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    pool.execute(this::acceptLoop);
  }

  /** The base URL to route to. */
  public String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** The next connection with a request on it; fails after {@code timeout}. */
  public Connection next(Duration timeout) {
    try {
      Connection c = accepted.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (c == null) {
        throw new AssertionError("no request reached the upstream within " + timeout);
      }
      return c;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        pool.execute(() -> readHead(s));
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void readHead(Socket s) {
    try {
      InputStream in = s.getInputStream();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          s.close();
          return;
        }
        head.write(b);
      }
      accepted.add(new Connection(s, head.toString(StandardCharsets.ISO_8859_1)));
    } catch (IOException e) {
      // the proxy went away: nothing to hand over
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    pool.shutdownNow();
  }
}

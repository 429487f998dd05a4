package io.countersign.proxy.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Sends raw bytes to a port and reads the answer: for requests no HTTP client would send. */
public final class RawHttp {
  private RawHttp() {}

  /** Sends {@code request} and returns everything the server writes before it closes (or 10 s). */
  public static String exchange(InetSocketAddress to, String request) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(to, 5000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = in.read(buf)) > 0; ) {
          out.write(buf, 0, n);
          if (complete(out.toString(StandardCharsets.ISO_8859_1))) {
            break;
          }
        }
      } catch (SocketTimeoutException e) {
        // return what came
      }
      return out.toString(StandardCharsets.ISO_8859_1);
    }
  }

  /** Whether {@code text} holds a whole response with a Content-Length body. */
  private static boolean complete(String text) {
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      return false;
    }
    String head = text.substring(0, end).toLowerCase();
    int i = head.indexOf("content-length:");
    if (i < 0) {
      return false;
    }
    int eol = head.indexOf("\r\n", i);
    int len = Integer.parseInt(head.substring(i + 15, eol < 0 ? head.length() : eol).strip());
    return text.length() >= end + 4 + len;
  }

  /** The status code of a raw response, or -1. */
  public static int status(String response) {
    if (!response.startsWith("HTTP/1.1 ")) {
      return -1;
    }
    return Integer.parseInt(response.substring(9, 12));
  }

  /** The body of a raw response. */
  public static String body(String response) {
    int end = response.indexOf("\r\n\r\n");
    return end < 0 ? "" : response.substring(end + 4);
  }
}

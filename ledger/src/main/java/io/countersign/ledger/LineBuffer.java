package io.countersign.ledger;

import java.io.OutputStream;
import java.util.Arrays;

/**
 * A growable byte buffer the writer reuses to build each stored line, so sealing an event copies
 * its bytes once instead of through a chain of strings. Not thread-safe: one per writer.
 */
final class LineBuffer {
  private byte[] bytes;
  private int length;

  LineBuffer(int initialCapacity) {
    this.bytes = new byte[initialCapacity];
  }

  void clear() {
    length = 0;
  }

  /** The backing array; bytes from 0 to {@link #length()} are the content. */
  byte[] array() {
    return bytes;
  }

  int length() {
    return length;
  }

  LineBuffer append(byte b) {
    ensure(1);
    bytes[length++] = b;
    return this;
  }

  LineBuffer append(byte[] src, int offset, int count) {
    ensure(count);
    System.arraycopy(src, offset, bytes, length, count);
    length += count;
    return this;
  }

  /** Appends text known to be ASCII (the chain's member names). */
  LineBuffer appendAscii(String ascii) {
    int n = ascii.length();
    ensure(n);
    for (int i = 0; i < n; i++) {
      bytes[length++] = (byte) ascii.charAt(i);
    }
    return this;
  }

  /** Appends a non-negative number in decimal, as JSON writes it. */
  LineBuffer appendDecimal(long value) {
    if (value < 0) {
      throw new IllegalArgumentException("negative: " + value);
    }
    int digits = 1;
    for (long v = value / 10; v > 0; v /= 10) {
      digits++;
    }
    ensure(digits);
    long v = value;
    for (int i = length + digits - 1; i >= length; i--) {
      bytes[i] = (byte) ('0' + (v % 10));
      v /= 10;
    }
    length += digits;
    return this;
  }

  /** Whether the content holds a UTF-8 lead byte of a 4-byte sequence (a character beyond the BMP). */
  boolean hasFourByteSequence() {
    for (int i = 0; i < length; i++) {
      if ((bytes[i] & 0xF8) == 0xF0) {
        return true;
      }
    }
    return false;
  }

  /** The size of the backing array. */
  int capacity() {
    return bytes.length;
  }

  /** An output stream that appends to this buffer (for an encoder writing into it). */
  OutputStream asOutputStream() {
    return new OutputStream() {
      @Override
      public void write(int b) {
        append((byte) b);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        append(b, off, len);
      }
    };
  }

  /** A copy of the content. */
  byte[] toByteArray() {
    return Arrays.copyOf(bytes, length);
  }

  private void ensure(int more) {
    if (length + more > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
    }
  }
}

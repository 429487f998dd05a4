package io.countersign.proxy.config;

/** The configuration is invalid; the message names the file, the key and the fix. */
public class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** With a message naming the file, the key and the fix. */
  public ConfigException(String message) {
    super(message);
  }

  /** With a message and the underlying cause. */
  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}

package org.callvault.call;

/**
 * One recorded media stream: its label, the party whose voice it carries, and its codec.
 */
public record StreamSpec(String label, String party, Codec codec) implements CborSerializable {

  public enum Codec {
    PCMU,
    PCMA,
    G722
  }
}

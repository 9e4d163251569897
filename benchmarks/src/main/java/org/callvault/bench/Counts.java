package org.callvault.bench;

/**
 * What the generator did on one stream, or summed over many.
 *
 * @param slots 20 ms slots of the stream's timeline that were due (sent, lost or paused)
 * @param datagrams genuine packets sent from the real source, duplicates included
 * @param unique distinct genuine packets sent (datagrams minus duplicates)
 * @param duplicates second copies sent
 * @param reordered packets held back and sent after their successor
 * @param lost genuine packets deliberately not sent (their sequence number was used)
 * @param silenced slots the sender was paused in
 * @param malformed malformed packets sent from the real source
 * @param foreign valid-looking packets with the stream's SSRC sent from another socket
 * @param ssrcChanges SSRC changes made
 * @param sendErrors sends the socket refused (packet not sent, not in the record)
 */
public record Counts(
    long slots,
    long datagrams,
    long unique,
    long duplicates,
    long reordered,
    long lost,
    long silenced,
    long malformed,
    long foreign,
    long ssrcChanges,
    long sendErrors) {

  public static final Counts ZERO = new Counts(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

  public Counts plus(Counts o) {
    return new Counts(
        slots + o.slots,
        datagrams + o.datagrams,
        unique + o.unique,
        duplicates + o.duplicates,
        reordered + o.reordered,
        lost + o.lost,
        silenced + o.silenced,
        malformed + o.malformed,
        foreign + o.foreign,
        ssrcChanges + o.ssrcChanges,
        sendErrors + o.sendErrors);
  }
}

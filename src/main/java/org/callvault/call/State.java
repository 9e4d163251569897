package org.callvault.call;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import org.callvault.core.CborSerializable;

/**
 * What the entity knows of its call: nothing yet, or the {@link Call} its ledger folds to. The
 * state is snapshotted; bound to Jackson by these names.
 *
 * <p>Shape notes. Until the state had files of its own, {@code NoCall} and {@code Call} were nested
 * in {@code CallRecording}: snapshots taken then name those classes, and {@code LegacyClassNames}
 * reads them as these (the fields are the same).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
@JsonSubTypes({
  @JsonSubTypes.Type(value = State.NoCall.class, name = "NoCall"),
  @JsonSubTypes.Type(value = Call.class, name = "Call")
})
public sealed interface State extends CborSerializable permits State.NoCall, Call {

  /** No call was created under this id. */
  record NoCall() implements State {}
}

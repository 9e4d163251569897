package org.callvault.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** A table for people: a header row, then rows, each column as wide as its widest cell. */
final class Table {

  private final List<String[]> rows = new ArrayList<>();
  private final int columns;

  Table(String... header) {
    this.columns = header.length;
    rows.add(header);
  }

  Table row(Object... cells) {
    if (cells.length != columns)
      throw new IllegalArgumentException(cells.length + " cells for " + columns + " columns");
    String[] text = new String[cells.length];
    for (int i = 0; i < cells.length; i++) text[i] = cells[i] == null ? "-" : cells[i].toString();
    rows.add(text);
    return this;
  }

  /** Whether it has rows besides its header. */
  boolean isEmpty() {
    return rows.size() == 1;
  }

  void print(PrintWriter out) {
    int[] widths = new int[columns];
    for (String[] row : rows)
      for (int i = 0; i < columns; i++) widths[i] = Math.max(widths[i], row[i].length());
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(row[i]);
        if (i < columns - 1) line.append(" ".repeat(widths[i] - row[i].length() + 2));
      }
      out.println(line.toString().stripTrailing());
    }
  }
}

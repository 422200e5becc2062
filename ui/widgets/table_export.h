#pragma once
// Saves a table widget as CSV (RFC 4180 quoting), header row first.

#include <QString>

class QTableWidget;

namespace mono::ui {

// False when the file could not be written.
bool writeTableCsv(const QString& path, const QTableWidget* table);

}  // namespace mono::ui

#include "ui/widgets/table_export.h"

#include <QFile>
#include <QStringList>
#include <QTableWidget>
#include <QTextStream>

namespace mono::ui {

namespace {
QString quote(QString s) {
    if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) &&
        !s.contains(QLatin1Char('\n')))
        return s;
    return QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) +
           QLatin1Char('"');
}
}  // namespace

bool writeTableCsv(const QString& path, const QTableWidget* table) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
    QTextStream out(&f);
    QStringList head;
    for (int c = 0; c < table->columnCount(); ++c) {
        const QTableWidgetItem* h = table->horizontalHeaderItem(c);
        head << quote(h ? h->text() : QString());
    }
    out << head.join(QLatin1Char(',')) << '\n';
    for (int r = 0; r < table->rowCount(); ++r) {
        QStringList row;
        for (int c = 0; c < table->columnCount(); ++c)
            row << quote(table->item(r, c) ? table->item(r, c)->text() : QString());
        out << row.join(QLatin1Char(',')) << '\n';
    }
    out.flush();
    return out.status() == QTextStream::Ok && f.error() == QFile::NoError;
}

}  // namespace mono::ui

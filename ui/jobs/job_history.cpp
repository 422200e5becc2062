#include "ui/jobs/job_history.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include "core/workspace/workspace.h"

namespace mono::ui {

namespace {
Result<QString> historyPath(const QString& workspaceDir) {
    MONO_ASSIGN_OR_RETURN(ws::Workspace workspace, ws::Workspace::open(workspaceDir.toStdString()));
    return QString::fromStdString(workspace.jobHistoryPath());
}
}  // namespace

Status appendJobRecord(const QString& workspaceDir, const JobRecord& record) {
    MONO_ASSIGN_OR_RETURN(QString path, historyPath(workspaceDir));
    QJsonObject o;
    o.insert(QStringLiteral("time"), record.time);
    o.insert(QStringLiteral("label"), record.label);
    o.insert(QStringLiteral("outcome"), record.outcome);
    o.insert(QStringLiteral("summary"), record.summary);
    o.insert(QStringLiteral("metrics"), QJsonObject::fromVariantMap(record.metrics));
    QFile file(path);
    if (!file.open(QIODevice::Append | QIODevice::WriteOnly))
        return Status::ioError(path.toStdString() + ": " + file.errorString().toStdString());
    // One write of one whole line: a reader never sees half a record unless the disk fills.
    const QByteArray line = QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
    if (file.write(line) != line.size())
        return Status::ioError(path.toStdString() + ": " + file.errorString().toStdString());
    return Status::success();
}

QList<JobRecord> readJobHistory(const QString& workspaceDir, int maxRecords) {
    QList<JobRecord> records;
    auto path = historyPath(workspaceDir);
    if (!path.ok()) return records;
    QFile file(*path);
    if (!file.open(QIODevice::ReadOnly)) return records;
    while (!file.atEnd()) {
        const QJsonDocument doc = QJsonDocument::fromJson(file.readLine());
        if (!doc.isObject()) continue;
        const QJsonObject o = doc.object();
        records.append({o.value(QStringLiteral("time")).toString(),
                        o.value(QStringLiteral("label")).toString(),
                        o.value(QStringLiteral("outcome")).toString(),
                        o.value(QStringLiteral("summary")).toString(),
                        o.value(QStringLiteral("metrics")).toObject().toVariantMap()});
        if (records.size() > maxRecords) records.removeFirst();
    }
    return records;
}

}  // namespace mono::ui

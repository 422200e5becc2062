#pragma once
// The Jobs view's history of finished runs, kept in the workspace
// (ws::Workspace::jobHistoryPath(), one JSON object per line) so that it
// survives a restart: when each job ended, what it was, how it ended and the
// line the log showed, with its metrics. Appends are whole lines; a damaged
// line is skipped when reading.

#include <QList>
#include <QString>
#include <QVariantMap>

#include "core/base/result.h"

namespace mono::ui {

struct JobRecord {
    QString time;     // ISO-8601, local time
    QString label;    // "Train topk-1024"
    QString outcome;  // "succeeded", "failed" or "cancelled"
    QString summary;  // the log's line
    QVariantMap metrics;
};

// Appends `record` to the history of the workspace in `workspaceDir`.
Status appendJobRecord(const QString& workspaceDir, const JobRecord& record);
// The last `maxRecords` records, oldest first; empty when there is no history.
QList<JobRecord> readJobHistory(const QString& workspaceDir, int maxRecords = 200);

}  // namespace mono::ui

#include "ui/panels/jobs/job_progress_view.h"

#include <QGridLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>

#include <cmath>

#include "ui/jobs/job_runner.h"

namespace mono::ui {

namespace {
// Metrics in the order a reader wants them, with their display names.
const std::pair<const char*, const char*> kMetricNames[] = {
    {"loss", "loss"},
    {"mse", "MSE"},
    {"l0", "L0"},
    {"dead_pct", "dead %"},
    {"explained_variance", "EV"},
    {"tokens_per_s", "tokens/s"},
    {"rows_per_s", "rows/s"},
    {"tokens", "tokens"},
    {"rows", "rows"},
};
}  // namespace

QString JobProgressView::formatDuration(double seconds) {
    const qint64 s = static_cast<qint64>(std::llround(std::max(0.0, seconds)));
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(s / 3600)
            .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
            .arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

JobProgressView::JobProgressView(JobRunner* runner, QWidget* parent)
    : QWidget(parent), m_runner(runner) {
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    m_title = new QLabel(tr("No job running"));
    m_title->setObjectName(QStringLiteral("statValue"));
    m_message = new QLabel;
    m_message->setObjectName(QStringLiteral("hint"));
    m_bar = new QProgressBar;
    m_bar->setObjectName(QStringLiteral("jobProgress"));
    m_bar->setRange(0, 1000);
    m_bar->setValue(0);
    m_bar->setTextVisible(true);
    m_time = new QLabel;
    m_time->setObjectName(QStringLiteral("hint"));
    m_metrics = new QLabel;
    m_metrics->setObjectName(QStringLiteral("jobMetrics"));
    m_metrics->setWordWrap(true);
    m_metrics->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setObjectName(QStringLiteral("cancelJobButton"));
    m_cancel->setToolTip(tr("Stop the job; it saves a checkpoint and can be resumed (Esc)"));
    m_cancel->setShortcut(QKeySequence(Qt::Key_Escape));
    m_cancel->setEnabled(false);
    grid->addWidget(m_title, 0, 0);
    grid->addWidget(m_time, 0, 1, Qt::AlignRight);
    grid->addWidget(m_bar, 1, 0);
    grid->addWidget(m_cancel, 1, 1);
    grid->addWidget(m_message, 2, 0, 1, 2);
    grid->addWidget(m_metrics, 3, 0, 1, 2);
    grid->setColumnStretch(0, 1);

    m_tick.setInterval(500);
    connect(&m_tick, &QTimer::timeout, this, &JobProgressView::updateTime);
    connect(m_cancel, &QPushButton::clicked, m_runner, &JobRunner::cancel);
    connect(m_runner, &JobRunner::started, this,
            [this](quint64, const QString& label) { onStarted(label); });
    connect(m_runner, &JobRunner::progressChanged, this,
            [this](quint64, double f, const QString& message, const QVariantMap& metrics) {
                onProgress(f, message, metrics);
            });
    connect(m_runner, &JobRunner::finished, this, [this](quint64) { onFinished(); });
    connect(m_runner, &JobRunner::succeeded, this, [this] { onOutcome(tr("Done")); });
    connect(m_runner, &JobRunner::cancelled, this, [this] { onOutcome(tr("Cancelled")); });
    connect(m_runner, &JobRunner::failed, this, [this] { onOutcome(tr("Failed")); });
}

void JobProgressView::onOutcome(const QString& outcome) {
    m_outcome = outcome;
    m_title->setText(tr("%1 — %2").arg(m_label, outcome.toLower()));
    if (outcome == tr("Done")) {
        m_bar->setRange(0, 1000);
        m_bar->setValue(1000);
        m_bar->setFormat(tr("Done"));
        return;
    }
    // The bar keeps where the job stopped, and says that it stopped there.
    if (m_bar->maximum() == 0) m_bar->setRange(0, 1000);
    m_bar->setFormat(
        m_fraction >= 0 ? tr("%1 at %2 %").arg(outcome).arg(m_fraction * 100, 0, 'f', 1) : outcome);
}

QString JobProgressView::barText() const {
    return m_bar->text();
}

QString JobProgressView::messageText() const {
    return m_message->text();
}

void JobProgressView::showNote(const QString& text) {
    m_message->setText(text);
}

void JobProgressView::onStarted(const QString& label) {
    m_clock.start();
    m_tick.start();
    m_fraction = -1;
    m_label = label;
    m_outcome.clear();
    m_title->setText(label);
    m_message->setText(tr("Starting…"));
    m_metrics->clear();
    m_bar->setRange(0, 0);  // busy until the first fraction arrives
    m_cancel->setEnabled(true);
    updateTime();
}

void JobProgressView::onProgress(double fraction, const QString& message,
                                 const QVariantMap& metrics) {
    m_fraction = fraction;
    if (fraction >= 0) {
        m_bar->setRange(0, 1000);
        m_bar->setValue(static_cast<int>(std::lround(std::min(1.0, fraction) * 1000)));
        m_bar->setFormat(QStringLiteral("%1 %").arg(fraction * 100, 0, 'f', 1));
    }
    if (!message.isEmpty()) m_message->setText(message);
    QStringList parts;
    for (const auto& [key, name] : kMetricNames) {
        const auto it = metrics.constFind(QLatin1String(key));
        if (it == metrics.constEnd()) continue;
        const double v = it->toDouble();
        parts.append(QStringLiteral("%1 %2").arg(
            QLatin1String(name),
            std::fabs(v) >= 1000 ? QString::number(v, 'f', 0) : QString::number(v, 'g', 4)));
    }
    if (!parts.isEmpty()) m_metrics->setText(parts.join(QStringLiteral("  ·  ")));
    updateTime();
}

void JobProgressView::onFinished() {
    m_tick.stop();
    updateTime();
    m_cancel->setEnabled(false);
    if (m_bar->maximum() == 0) m_bar->setRange(0, 1000);
}

QString JobProgressView::timeText() const {
    return m_time->text();
}
QString JobProgressView::metricsText() const {
    return m_metrics->text();
}

void JobProgressView::updateTime() {
    if (!m_clock.isValid()) return;
    const double elapsed = m_clock.elapsed() / 1000.0;
    QString text = tr("%1 elapsed").arg(formatDuration(elapsed));
    if (m_runner->isBusy() && m_fraction > 0.01 && m_fraction < 1)
        text += tr(" · about %1 left").arg(formatDuration(elapsed * (1 - m_fraction) / m_fraction));
    m_time->setText(text);
}

}  // namespace mono::ui

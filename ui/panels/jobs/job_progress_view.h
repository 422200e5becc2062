#pragma once
// JobProgressView: what the running job is doing — its name, a progress bar,
// elapsed and estimated remaining time, its live metrics, and Cancel. It
// follows one JobRunner's signals; it never starts anything itself.

#include <QElapsedTimer>
#include <QTimer>
#include <QVariantMap>
#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace mono::ui {

class JobRunner;

class JobProgressView : public QWidget {
    Q_OBJECT
public:
    // `runner` must outlive the view.
    explicit JobProgressView(JobRunner* runner, QWidget* parent = nullptr);

    QPushButton* cancelButton() const { return m_cancel; }
    QString metricsText() const;
    // "1:05 elapsed · about 0:30 left"
    QString timeText() const;
    double fraction() const { return m_fraction; }
    // How the last job ended: "", "Done", "Cancelled" or "Failed".
    QString outcome() const { return m_outcome; }
    // The progress bar's text ("42.0 %", "Cancelled at 42.0 %").
    QString barText() const;
    // The line under the bar (what the job is doing, or what to do next).
    QString messageText() const;
    // Replaces that line (the Jobs panel says how to resume a cancelled job).
    void showNote(const QString& text);

    // "12.3 s" style durations: m:ss, or h:mm:ss past an hour.
    static QString formatDuration(double seconds);

private:
    void onStarted(const QString& label);
    void onProgress(double fraction, const QString& message, const QVariantMap& metrics);
    void onFinished();
    void onOutcome(const QString& outcome);
    void updateTime();

    JobRunner* m_runner;
    QElapsedTimer m_clock;
    QTimer m_tick;  // refreshes the elapsed time between progress reports
    double m_fraction = -1;
    QString m_label, m_outcome;
    QLabel* m_title;
    QLabel* m_message;
    QProgressBar* m_bar;
    QLabel* m_time;
    QLabel* m_metrics;
    QPushButton* m_cancel;
};

}  // namespace mono::ui

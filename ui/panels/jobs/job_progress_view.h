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

    // "12.3 s" style durations: m:ss, or h:mm:ss past an hour.
    static QString formatDuration(double seconds);

private:
    void onStarted(const QString& label);
    void onProgress(double fraction, const QString& message, const QVariantMap& metrics);
    void onFinished();
    void updateTime();

    JobRunner* m_runner;
    QElapsedTimer m_clock;
    QTimer m_tick;  // refreshes the elapsed time between progress reports
    double m_fraction = -1;
    QLabel* m_title;
    QLabel* m_message;
    QProgressBar* m_bar;
    QLabel* m_time;
    QLabel* m_metrics;
    QPushButton* m_cancel;
};

}  // namespace mono::ui

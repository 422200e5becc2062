#include "ui/panels/quant/quant_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>

#include <algorithm>

#include "core/model/model.h"
#include "core/quant/calibration.h"
#include "core/quant/outliers.h"
#include "core/quant/report.h"
#include "core/quant/smoothing_explorer.h"
#include "ui/jobs/job_runner.h"
#include "ui/panels/quant/outlier_panel.h"
#include "ui/panels/quant/quant_panel.h"
#include "ui/panels/quant/report_panel.h"

namespace mono::ui {

namespace {
// The explorer captures inputs from this many windows for its error table.
constexpr int kExplorerWindows = 4;
// Held-out windows the end-to-end report is measured on.
constexpr int kReportEvalWindows = 8;
}  // namespace

QuantView::QuantView(QWidget* parent)
    : QWidget(parent),
      m_runner(new JobRunner(this)),
      m_panel(new QuantPanel(this)),
      m_outliers(new OutlierPanel(this)),
      m_report(new ReportPanel(this)),
      m_tabs(new QTabWidget(this)),
      m_reportError(messageBoxErrorReporter(this)) {
    m_windows = new QSpinBox(this);
    m_windows->setRange(1, 4096);
    m_windows->setValue(64);
    m_windows->setSuffix(tr(" windows"));
    m_windows->setToolTip(tr("Context windows of the workspace's corpus to calibrate on"));
    m_calibrate = new QPushButton(tr("Calibrate"), this);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_status = new QLabel(this);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Calibration:"), this));
    bar->addWidget(m_windows);
    bar->addWidget(m_calibrate);
    bar->addWidget(m_cancel);
    bar->addWidget(m_status, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    m_tabs->addTab(m_panel, tr("Smoothing"));
    m_tabs->addTab(m_outliers, tr("Outliers and rotation"));
    m_tabs->addTab(m_report, tr("End-to-end error"));
    connect(m_report, &ReportPanel::runRequested, this, &QuantView::runReport);
    layout->addWidget(m_tabs, 1);

    connect(m_calibrate, &QPushButton::clicked, this, &QuantView::calibrate);
    connect(m_cancel, &QPushButton::clicked, m_runner, &JobRunner::cancel);
    connect(m_runner, &JobRunner::busyChanged, this, [this] { updateActions(); });
    connect(m_runner, &JobRunner::progressChanged, this,
            [this](quint64, double fraction, const QString& message) {
                m_status->setText(
                    fraction >= 0 ? tr("%1 — %2%").arg(message).arg(int(100 * fraction)) : message);
            });
    connect(m_runner, &JobRunner::failed, this,
            [this](quint64, const QString& label, const QString& message) {
                m_status->setText(tr("%1 failed").arg(label));
                m_reportError(tr("%1 failed").arg(label), message);
            });
    connect(m_runner, &JobRunner::cancelled, this,
            [this] { m_status->setText(tr("Calibration cancelled")); });
    updateActions();
}

void QuantView::setModel(std::shared_ptr<model::Model> model,
                         std::shared_ptr<const tok::Tokenizer> tokenizer) {
    m_runner->abandon();
    m_model = std::move(model);
    m_tokenizer = std::move(tokenizer);
    m_panel->setExplorer(nullptr);
    m_outliers->setData(nullptr);
    m_report->setReport(nullptr);
    m_status->clear();
    updateActions();
}

void QuantView::setCorpus(const QStringList& files) {
    m_corpus = files;
    updateActions();
}

void QuantView::updateActions() {
    const bool ready = m_model && m_tokenizer && !m_corpus.isEmpty();
    m_calibrate->setEnabled(ready && !m_runner->isBusy());
    m_report->setRunEnabled(ready && !m_runner->isBusy());
    m_cancel->setEnabled(m_runner->isBusy());
    if (!ready && !m_runner->isBusy())
        m_status->setText(m_model ? tr("Open a workspace: its corpus is the calibration data.")
                                  : tr("Open a workspace or a model to calibrate."));
}

void QuantView::calibrate() {
    if (!m_model || !m_tokenizer || m_corpus.isEmpty()) return;
    std::vector<std::string> files;
    for (const QString& f : m_corpus) files.push_back(f.toStdString());
    const int count = m_windows->value();
    const int seqLen = std::min(128, std::max(2, m_model->config().maxSeqLen));
    auto model = m_model;
    auto tokenizer = m_tokenizer;
    struct Result_ {
        std::shared_ptr<quant::SmoothingExplorer> explorer;
        std::shared_ptr<const quant::OutlierData> outliers;
    };
    m_runner->start(
        tr("Calibration"),
        [=](const JobContext& job) -> Result<Result_> {
            MONO_ASSIGN_OR_RETURN(auto windows,
                                  quant::tokenWindows(files, *tokenizer, count, seqLen));
            // One calibration of the float model (and one of its rotated copy) serves both tabs.
            MONO_ASSIGN_OR_RETURN(auto data,
                                  quant::buildOutlierData(*model, windows, tokenizer.get(), 64,
                                                          job.progress(), job.stop()));
            auto outliers = std::make_shared<const quant::OutlierData>(std::move(data));
            windows.resize(std::min<size_t>(windows.size(), kExplorerWindows));
            job.progress().report(-1.0, "capturing the inputs of every smoothing group");
            MONO_ASSIGN_OR_RETURN(auto explorer, quant::SmoothingExplorer::create(
                                                     model, outliers->plain, windows, {}));
            return Result_{std::move(explorer), std::move(outliers)};
        },
        [this](Result_ r) {
            m_panel->setExplorer(std::move(r.explorer));
            m_outliers->setData(std::move(r.outliers));
            m_status->setText(tr("Calibrated on %1 windows").arg(m_windows->value()));
            emit calibrated();
        });
}

void QuantView::runReport() {
    if (!m_model || !m_tokenizer || m_corpus.isEmpty()) return;
    std::vector<std::string> files;
    for (const QString& f : m_corpus) files.push_back(f.toStdString());
    const int count = m_windows->value();
    const int seqLen = std::min(128, std::max(2, m_model->config().maxSeqLen));
    const quant::QuantReportSpec spec = m_report->spec();
    auto model = m_model;
    auto tokenizer = m_tokenizer;
    m_runner->start(
        tr("Quantization report"),
        [=](const JobContext& job) -> Result<std::shared_ptr<const quant::QuantReport>> {
            MONO_ASSIGN_OR_RETURN(auto calibWindows,
                                  quant::tokenWindows(files, *tokenizer, count, seqLen));
            MONO_ASSIGN_OR_RETURN(auto evalWindows,
                                  quant::tokenWindows(files, *tokenizer, kReportEvalWindows, seqLen,
                                                      int(calibWindows.size())));
            MONO_ASSIGN_OR_RETURN(auto calibration,
                                  quant::calibrate(*model, calibWindows, {}, {}, job.stop()));
            MONO_ASSIGN_OR_RETURN(
                auto report, quant::buildQuantReport(*model, calibration, calibWindows, evalWindows,
                                                     spec, job.progress(), job.stop()));
            return std::make_shared<const quant::QuantReport>(std::move(report));
        },
        [this](std::shared_ptr<const quant::QuantReport> report) {
            m_report->setReport(std::move(report));
            m_status->setText(tr("Report ready"));
        });
}

}  // namespace mono::ui

#include "ui/panels/compare/compare_view.h"

#include <QAbstractTableModel>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "ui/jobs/job_runner.h"
#include "ui/session/workspace_session.h"

namespace mono::ui {

namespace {

// A feature's label or top snippet from its SAE's store; "" without one.
QString describeFeature(const std::vector<std::string>& text, int64_t id) {
    return id >= 0 && id < int64_t(text.size())
               ? QString::fromStdString(text[static_cast<size_t>(id)])
               : QString();
}

}  // namespace

// Every feature of A (or the filtered ones) with its best match in B. Rows
// are made on demand, so a 1M-feature comparison costs one index per row.
class MatchTableModel : public QAbstractTableModel {
public:
    enum Column { kA, kDescribeA, kB, kDescribeB, kCosine, kMutual, kColumns };

    using QAbstractTableModel::QAbstractTableModel;

    void reset(const CompareJobResult* result, CompareView::Filter filter) {
        beginResetModel();
        m_result = result;
        m_rows.clear();
        if (result)
            for (int64_t i = 0; i < result->matching.featuresA; ++i)
                if (keep(i, filter)) m_rows.push_back(i);
        endResetModel();
    }
    int64_t featureAt(int row) const { return m_rows.at(static_cast<size_t>(row)); }
    int64_t bestAt(int row) const { return best(featureAt(row)); }

    int rowCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
    }
    int columnCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() ? 0 : kColumns;
    }
    QVariant headerData(int section, Qt::Orientation o, int role) const override {
        if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
        static const char* names[] = {"A",         "A feature", "Best in B",
                                      "B feature", "Cosine",    "Mutual"};
        return QObject::tr(names[section]);
    }
    QVariant data(const QModelIndex& index, int role) const override {
        if (!m_result || !index.isValid()) return {};
        const int64_t i = featureAt(index.row());
        const auto& matches = m_result->matching.aToB[static_cast<size_t>(i)];
        if (role == Qt::TextAlignmentRole && index.column() != kDescribeA &&
            index.column() != kDescribeB)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        if (role != Qt::DisplayRole || matches.empty()) return {};
        switch (index.column()) {
            case kA:
                return qlonglong(i);
            case kDescribeA:
                return describeFeature(m_result->describeA, i);
            case kB:
                return qlonglong(matches[0].id);
            case kDescribeB:
                return describeFeature(m_result->describeB, matches[0].id);
            case kCosine:
                return QString::number(matches[0].cosine, 'f', 3);
            case kMutual:
                return matched(i) && mutual(i) ? QObject::tr("yes") : QString();
        }
        return {};
    }

private:
    int64_t best(int64_t i) const {
        const auto& m = m_result->matching.aToB[static_cast<size_t>(i)];
        return m.empty() ? -1 : m[0].id;
    }
    bool matched(int64_t i) const {
        const auto& m = m_result->matching.aToB[static_cast<size_t>(i)];
        return !m.empty() && m[0].cosine >= m_result->spec.threshold;
    }
    bool mutual(int64_t i) const {
        const int64_t j = best(i);
        if (j < 0) return false;
        const auto& back = m_result->matching.bToA[static_cast<size_t>(j)];
        return !back.empty() && back[0].id == i;
    }
    bool keep(int64_t i, CompareView::Filter f) const {
        switch (f) {
            case CompareView::Filter::kAll:
                return true;
            case CompareView::Filter::kMatched:
                return matched(i);
            case CompareView::Filter::kUnmatched:
                return !matched(i);
            case CompareView::Filter::kMutual:
                return matched(i) && mutual(i);
        }
        return true;
    }

    const CompareJobResult* m_result = nullptr;
    std::vector<int64_t> m_rows;
};

CompareView::CompareView(WorkspaceSession* workspace, QWidget* parent)
    : QWidget(parent),
      m_workspace(workspace),
      m_runner(new JobRunner(this)),
      m_saeA(new QComboBox),
      m_saeB(new QComboBox),
      m_threshold(new QDoubleSpinBox),
      m_filter(new QComboBox),
      m_run(new QPushButton(tr("Compare"))),
      m_summary(new QLabel),
      m_table(new QTableView),
      m_model(new MatchTableModel(this)),
      m_families(new QTreeWidget) {
    m_threshold->setRange(0.5, 1.0);
    m_threshold->setSingleStep(0.05);
    m_threshold->setDecimals(2);
    m_threshold->setValue(0.9);
    m_threshold->setToolTip(tr("A feature is matched when its best decoder cosine reaches this"));
    m_filter->addItems(
        {tr("All features of A"), tr("Matched"), tr("Unmatched"), tr("Mutual best pairs")});
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("SAE A")));
    controls->addWidget(m_saeA, 1);
    controls->addWidget(new QLabel(tr("SAE B")));
    controls->addWidget(m_saeB, 1);
    controls->addWidget(new QLabel(tr("Match at cosine ≥")));
    controls->addWidget(m_threshold);
    controls->addWidget(m_run);
    m_summary->setWordWrap(true);
    m_summary->setText(
        tr("Choose two SAEs of the workspace that read the same hook, "
           "e.g. two widths or two seeds, and press Compare."));

    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->verticalHeader()->hide();
    QHeaderView* header = m_table->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setSectionResizeMode(MatchTableModel::kDescribeA, QHeaderView::Stretch);
    header->setSectionResizeMode(MatchTableModel::kDescribeB, QHeaderView::Stretch);
    m_table->setToolTip(tr("Double-click: open the feature of A (or, on the B columns, of B)"));
    m_families->setHeaderLabels({tr("Family"), tr("Cosine"), tr("Feature")});
    m_families->setToolTip(
        tr("A feature of the narrower SAE and the features of the wider one "
           "whose best match it is: where one feature split into several"));

    auto* tableSide = new QWidget;
    auto* tableLayout = new QVBoxLayout(tableSide);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    tableLayout->addWidget(m_filter);
    tableLayout->addWidget(m_table, 1);
    auto* split = new QSplitter;
    split->addWidget(tableSide);
    split->addWidget(m_families);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_summary);
    layout->addWidget(split, 1);

    connect(m_run, &QPushButton::clicked, this, &CompareView::compare);
    connect(m_filter, &QComboBox::currentIndexChanged, this,
            [this](int i) { setFilter(static_cast<Filter>(i)); });
    connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        const bool onB =
            index.column() == MatchTableModel::kB || index.column() == MatchTableModel::kDescribeB;
        const int64_t id = onB ? m_model->bestAt(index.row()) : m_model->featureAt(index.row());
        if (id >= 0)
            emit featureRequested(
                QString::fromStdString(onB ? m_result.spec.saeB : m_result.spec.saeA), qint64(id));
    });
    connect(m_families, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item) {
        emit featureRequested(item->data(0, Qt::UserRole).toString(),
                              item->data(0, Qt::UserRole + 1).toLongLong());
    });
    connect(m_runner, &JobRunner::busyChanged, m_run,
            [this](bool busy) { m_run->setEnabled(!busy); });
    connect(m_runner, &JobRunner::failed, this,
            [this](quint64, const QString& label, const QString& message) {
                m_summary->setText(label + QStringLiteral(": ") + message);
                emit failed(label, message);
            });
    connect(workspace, &WorkspaceSession::workspaceChanged, this, [this] {
        m_hasResult = false;
        m_model->reset(nullptr, Filter::kAll);
        m_families->clear();
        fillSaeLists();
    });
    connect(workspace, &WorkspaceSession::saeListChanged, this, &CompareView::fillSaeLists);
    fillSaeLists();
}

void CompareView::fillSaeLists() {
    const QStringList names = m_workspace->saeNames();
    for (QComboBox* box : {m_saeA, m_saeB}) {
        const QString kept = box->currentText();
        box->clear();
        box->addItems(names);
        if (names.contains(kept)) box->setCurrentText(kept);
    }
    if (m_saeB->currentIndex() == m_saeA->currentIndex() && names.size() > 1)
        m_saeB->setCurrentIndex(m_saeA->currentIndex() == 0 ? 1 : 0);
    m_run->setEnabled(names.size() >= 2 && !m_runner->isBusy());
}

void CompareView::compare() {
    if (!m_workspace->isOpen() || m_saeA->currentText().isEmpty() ||
        m_saeB->currentText().isEmpty())
        return;
    CompareJobSpec spec;
    spec.workspaceDir = m_workspace->dir().toStdString();
    spec.saeA = m_saeA->currentText().toStdString();
    spec.saeB = m_saeB->currentText().toStdString();
    spec.threshold = float(m_threshold->value());
    m_summary->setText(
        tr("Comparing %1 with %2 …").arg(m_saeA->currentText(), m_saeB->currentText()));
    m_runner->start(
        tr("Comparing SAEs"),
        [spec](const JobContext& job) { return runCompareJob(spec, job.progress(), job.stop()); },
        [this](CompareJobResult result) { showResult(result); });
}

void CompareView::showResult(const CompareJobResult& result) {
    m_result = result;
    m_hasResult = true;
    const compare::MatchCounts& c = result.counts;
    const auto pct = [](int64_t n, int64_t of) {
        return QString::number(of > 0 ? 100.0 * double(n) / double(of) : 0.0, 'f', 1);
    };
    const QString a = QString::fromStdString(result.spec.saeA);
    const QString b = QString::fromStdString(result.spec.saeB);
    m_summary->setText(
        tr("<b>%1</b> (%2 features) vs <b>%3</b> (%4 features), decoder cosine ≥ %5: "
           "%6 of A have a match in B (%7 %), %8 of B in A (%9 %), %10 mutual best pairs; "
           "%11 split families; %12 features of A unmatched.")
            .arg(a)
            .arg(result.matching.featuresA)
            .arg(b)
            .arg(result.matching.featuresB)
            .arg(double(result.spec.threshold), 0, 'f', 2)
            .arg(c.matchedA)
            .arg(pct(c.matchedA, result.matching.featuresA))
            .arg(c.matchedB)
            .arg(pct(c.matchedB, result.matching.featuresB))
            .arg(c.mutualPairs)
            .arg(result.families.size())
            .arg(result.matching.featuresA - c.matchedA));
    m_model->reset(&m_result, static_cast<Filter>(m_filter->currentIndex()));
    fillFamilies();
}

void CompareView::setFilter(Filter filter) {
    if (m_filter->currentIndex() != int(filter)) m_filter->setCurrentIndex(int(filter));
    if (m_hasResult) m_model->reset(&m_result, filter);
}

QString CompareView::describe(bool inA, int64_t id) const {
    return describeFeature(inA ? m_result.describeA : m_result.describeB, id);
}

void CompareView::fillFamilies() {
    m_families->clear();
    const bool parentsInA = m_result.parentsInA;
    const QString parentSae =
        QString::fromStdString(parentsInA ? m_result.spec.saeA : m_result.spec.saeB);
    const QString childSae =
        QString::fromStdString(parentsInA ? m_result.spec.saeB : m_result.spec.saeA);
    const QString parentSide = parentsInA ? QStringLiteral("A") : QStringLiteral("B");
    const QString childSide = parentsInA ? QStringLiteral("B") : QStringLiteral("A");
    for (const compare::SplitFamily& f : m_result.families) {
        auto* top = new QTreeWidgetItem(
            m_families,
            {tr("%1 #%2 → %3 features").arg(parentSide).arg(f.parent).arg(f.children.size()),
             QString(), describe(parentsInA, f.parent)});
        top->setData(0, Qt::UserRole, parentSae);
        top->setData(0, Qt::UserRole + 1, qlonglong(f.parent));
        for (const sae::CosineMatch& c : f.children) {
            auto* child = new QTreeWidgetItem(
                top, {QStringLiteral("%1 #%2").arg(childSide).arg(c.id),
                      QString::number(c.cosine, 'f', 3), describe(!parentsInA, c.id)});
            child->setData(0, Qt::UserRole, childSae);
            child->setData(0, Qt::UserRole + 1, qlonglong(c.id));
        }
    }
    m_families->expandAll();
    m_families->resizeColumnToContents(0);
    m_families->resizeColumnToContents(1);
}

}  // namespace mono::ui

#include "ui/main/new_workspace_wizard.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/base/version.h"

namespace mono::ui {

namespace {

// A page whose Next is allowed only when `check` returns an empty string; the
// message otherwise shows in the page.
class CheckedPage : public QWizardPage {
public:
    using Check = std::function<QString()>;
    explicit CheckedPage(Check check) : m_check(std::move(check)) {
        m_problem = new QLabel;
        m_problem->setObjectName(QStringLiteral("wizardProblem"));
        m_problem->setWordWrap(true);
        m_problem->setStyleSheet(QStringLiteral("color: #dc2626;"));
    }
    QLabel* problemLabel() const { return m_problem; }
    bool validatePage() override {
        const QString problem = m_check();
        m_problem->setText(problem);
        return problem.isEmpty();
    }

private:
    Check m_check;
    QLabel* m_problem;
};

QWidget* withBrowse(QLineEdit* edit, const QString& button, std::function<void()> browse) {
    auto* row = new QWidget;
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit, 1);
    auto* b = new QPushButton(button);
    QObject::connect(b, &QPushButton::clicked, row, std::move(browse));
    layout->addWidget(b);
    return row;
}

QSpinBox* spin(int min, int max, int value, int step) {
    auto* s = new QSpinBox;
    s->setRange(min, max);
    s->setValue(value);
    s->setSingleStep(step);
    s->setGroupSeparatorShown(true);
    return s;
}

}  // namespace

NewWorkspaceWizard::NewWorkspaceWizard(QWidget* parent) : QWizard(parent) {
    setWindowTitle(tr("New Workspace"));
    setWizardStyle(QWizard::ModernStyle);
    setOption(QWizard::NoBackButtonOnStartPage);
    addPage(folderPage());
    addPage(corpusPage());
    addPage(hookPage());
    addPage(saePage());
    resize(640, 460);
}

QWizardPage* NewWorkspaceWizard::folderPage() {
    auto* page = new CheckedPage([this]() -> QString {
        const QString dir = m_dir->text().trimmed();
        if (dir.isEmpty()) return tr("Choose a folder for the workspace.");
        const QDir d(dir);
        if (d.exists() && !d.isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot))
            return tr("%1 is not empty; choose a new or empty folder.").arg(dir);
        const QString model = m_model->text().trimmed();
        if (model.isEmpty() || !QFileInfo::exists(model))
            return tr("Choose a model: a Hugging Face folder, a .gguf file or a llama2.c .bin.");
        const QString tok = m_tokenizer->text().trimmed();
        if (!tok.isEmpty() && !QFileInfo::exists(tok))
            return tr("The tokenizer %1 does not exist.").arg(tok);
        return {};
    });
    page->setTitle(tr("Folder and model"));
    page->setSubTitle(tr("A workspace keeps everything about one model in one folder."));
    auto* form = new QFormLayout(page);
    m_dir = new QLineEdit;
    m_dir->setObjectName(QStringLiteral("wizardFolder"));
    m_model = new QLineEdit;
    m_model->setObjectName(QStringLiteral("wizardModel"));
    m_tokenizer = new QLineEdit;
    m_tokenizer->setPlaceholderText(tr("only for a llama2.c .bin without tokenizer.bin beside it"));
    form->addRow(tr("Workspace folder"), withBrowse(m_dir, tr("Browse…"), [this] {
                     const QString d =
                         QFileDialog::getExistingDirectory(this, tr("Workspace folder"));
                     if (!d.isEmpty()) m_dir->setText(d);
                 }));
    form->addRow(tr("Model"), withBrowse(m_model, tr("File…"), [this] {
                     const QString f = QFileDialog::getOpenFileName(
                         this, tr("Model"), {},
                         tr("Models (*.gguf *.bin *.safetensors config.json);;All files (*)"));
                     // A file inside a Hugging Face folder stands for the folder.
                     if (!f.isEmpty())
                         m_model->setText(f.endsWith(QStringLiteral(".gguf")) ||
                                                  f.endsWith(QStringLiteral(".bin"))
                                              ? f
                                              : QFileInfo(f).absolutePath());
                 }));
    form->addRow(tr("Tokenizer"), withBrowse(m_tokenizer, tr("File…"), [this] {
                     const QString f = QFileDialog::getOpenFileName(this, tr("Tokenizer"));
                     if (!f.isEmpty()) m_tokenizer->setText(f);
                 }));
    form->addRow(page->problemLabel());
    for (QLineEdit* edit : {m_dir, m_model, m_tokenizer})
        connect(edit, &QLineEdit::textChanged, page->problemLabel(), &QLabel::clear);
    return page;
}

QWizardPage* NewWorkspaceWizard::corpusPage() {
    auto* page = new CheckedPage([this]() -> QString {
        if (m_corpus->count() == 0) return tr("Add at least one text or .jsonl file.");
        for (int i = 0; i < m_corpus->count(); ++i)
            if (!QFileInfo(m_corpus->item(i)->text()).isFile())
                return tr("%1 is not a file.").arg(m_corpus->item(i)->text());
        return {};
    });
    page->setTitle(tr("Corpus"));
    page->setSubTitle(
        tr("The text whose activations are captured and whose examples the "
           "dashboards show (plain text or .jsonl with a \"text\" field)."));
    auto* layout = new QVBoxLayout(page);
    m_corpus = new QListWidget;
    m_corpus->setObjectName(QStringLiteral("wizardCorpus"));
    layout->addWidget(m_corpus, 1);
    auto* row = new QHBoxLayout;
    auto* add = new QPushButton(tr("Add Files…"));
    auto* remove = new QPushButton(tr("Remove"));
    row->addWidget(add);
    row->addWidget(remove);
    row->addStretch(1);
    row->addWidget(new QLabel(tr("Context window")));
    m_context = spin(8, 8192, 128, 32);
    m_context->setSuffix(tr(" tokens"));
    row->addWidget(m_context);
    layout->addLayout(row);
    layout->addWidget(page->problemLabel());
    connect(add, &QPushButton::clicked, this, [this] {
        for (const QString& f : QFileDialog::getOpenFileNames(
                 this, tr("Corpus files"), {}, tr("Text (*.txt *.jsonl *.json);;All files (*)")))
            m_corpus->addItem(f);
    });
    connect(remove, &QPushButton::clicked, this, [this] { qDeleteAll(m_corpus->selectedItems()); });
    m_corpus->setSelectionMode(QAbstractItemView::ExtendedSelection);
    // A message about the list is stale once the list changes.
    QLabel* problem = page->problemLabel();
    connect(m_corpus->model(), &QAbstractItemModel::rowsInserted, problem, &QLabel::clear);
    connect(m_corpus->model(), &QAbstractItemModel::rowsRemoved, problem, &QLabel::clear);
    connect(m_corpus->model(), &QAbstractItemModel::modelReset, problem, &QLabel::clear);
    return page;
}

QWizardPage* NewWorkspaceWizard::hookPage() {
    auto* page = new CheckedPage([this]() -> QString {
        const QString hook = m_hook->currentText().trimmed();
        if (!hook.startsWith(QStringLiteral("blocks.")) &&
            !hook.startsWith(QStringLiteral("ln_final")))
            return tr("Hook names look like blocks.2.hook_resid_post.");
        return {};
    });
    page->setTitle(tr("Hook point"));
    page->setSubTitle(
        tr("Where in the model activations are read (TransformerLens names). The "
           "residual stream of a middle layer is the usual choice."));
    auto* form = new QFormLayout(page);
    m_hook = new QComboBox;
    m_hook->setEditable(true);
    for (int layer = 0; layer < 12; ++layer)
        for (const char* site :
             {"hook_resid_post", "hook_resid_pre", "hook_mlp_out", "hook_attn_out"})
            m_hook->addItem(QStringLiteral("blocks.%1.%2").arg(layer).arg(QLatin1String(site)));
    m_hook->setCurrentText(QStringLiteral("blocks.2.hook_resid_post"));
    form->addRow(tr("Hook"), m_hook);
    auto* note =
        new QLabel(tr("A hook the model does not have is reported when the capture starts."));
    note->setObjectName(QStringLiteral("hint"));
    note->setWordWrap(true);
    form->addRow(note);
    form->addRow(page->problemLabel());
    return page;
}

QWizardPage* NewWorkspaceWizard::saePage() {
    auto* page = new CheckedPage([] { return QString(); });
    page->setTitle(tr("Sparse autoencoder"));
    page->setSubTitle(
        tr("Finish captures the activations, trains this SAE and analyses its "
           "features, one job after the other, in the Jobs view."));
    auto* form = new QFormLayout(page);
    m_captureTokens = spin(1000, 1'000'000'000, 500'000, 100'000);
    m_arch = new QComboBox;
    m_arch->addItem(QStringLiteral("TopK"), int(sae::Architecture::kTopK));
    m_arch->addItem(QStringLiteral("BatchTopK"), int(sae::Architecture::kBatchTopK));
    m_arch->addItem(tr("ReLU + L1"), int(sae::Architecture::kStandard));
    m_features = spin(8, 1 << 22, 2048, 256);
    m_k = spin(1, 4096, 16, 1);
    m_trainTokens = spin(1000, 2'000'000'000, 5'000'000, 500'000);
    form->addRow(tr("Tokens to capture"), m_captureTokens);
    form->addRow(tr("Architecture"), m_arch);
    form->addRow(tr("Features"), m_features);
    form->addRow(tr("k (TopK)"), m_k);
    form->addRow(tr("Training tokens"), m_trainTokens);
    auto* note = new QLabel(
        tr("A corpus smaller than the tokens to capture is captured whole; training on more "
           "tokens than were captured repeats them (the Jobs log says so)."));
    note->setObjectName(QStringLiteral("hint"));
    note->setWordWrap(true);
    form->addRow(note);
    connect(m_arch, &QComboBox::currentIndexChanged, this, [this, form] {
        form->setRowVisible(
            m_k, sae::Architecture(m_arch->currentData().toInt()) != sae::Architecture::kStandard);
    });
    return page;
}

void NewWorkspaceWizard::setFolder(const QString& dir) {
    m_dir->setText(dir);
}
void NewWorkspaceWizard::setModel(const QString& path, const QString& tokenizer) {
    m_model->setText(path);
    m_tokenizer->setText(tokenizer);
}
void NewWorkspaceWizard::setCorpus(const QStringList& files) {
    m_corpus->clear();
    m_corpus->addItems(files);
}
void NewWorkspaceWizard::setHook(const QString& hook) {
    m_hook->setCurrentText(hook);
}

NewWorkspacePlan NewWorkspaceWizard::plan() const {
    NewWorkspacePlan p;
    p.dir = QDir::cleanPath(m_dir->text().trimmed());
    p.manifest.modelPath = QFileInfo(m_model->text().trimmed()).absoluteFilePath().toStdString();
    if (!m_tokenizer->text().trimmed().isEmpty())
        p.manifest.tokenizerPath =
            QFileInfo(m_tokenizer->text().trimmed()).absoluteFilePath().toStdString();
    for (int i = 0; i < m_corpus->count(); ++i)
        p.manifest.corpus.push_back(
            QFileInfo(m_corpus->item(i)->text()).absoluteFilePath().toStdString());
    const std::string hook = m_hook->currentText().trimmed().toStdString();
    p.manifest.hooks = {hook};
    p.manifest.contextSize = m_context->value();
    p.manifest.monoscopeVersion = kVersion;
    p.capture.hook = hook;
    p.capture.tokens = m_captureTokens->value();
    p.train.hook = hook;
    p.train.architecture = sae::Architecture(m_arch->currentData().toInt());
    p.train.features = m_features->value();
    p.train.k = m_k->value();
    p.train.tokens = m_trainTokens->value();
    const QString arch = p.train.architecture == sae::Architecture::kStandard
                             ? QStringLiteral("relu")
                             : QString::fromLatin1(sae::architectureName(p.train.architecture));
    p.train.saeName = QStringLiteral("%1-%2").arg(arch).arg(p.train.features).toStdString();
    p.analyse.saeName = p.train.saeName;
    return p;
}

}  // namespace mono::ui

//! Weighted categories, course totals, and the CSV export.
//!
//! Rules (also in the API documentation):
//! - A course has zero or more categories `{id, name, weight, items}`; the
//!   weights must add up to 100, and an item belongs to at most one category.
//! - Only grades with status `graded` count. An item that is not graded yet
//!   (no grade, waiting for a person, grading failed) is excluded until it is
//!   graded — it neither earns nor loses points.
//! - A category's score is its graded items' points over their maximum
//!   (points-weighted, not an average of percentages). A category with
//!   nothing graded yet is left out and the other categories' weights are
//!   scaled up to fill its share, so the total is always a percentage of
//!   what has been graded.
//! - With categories, items outside every category do not count towards the
//!   total (they are still listed). Without categories, the total is all
//!   graded points over their maximum.
//! - Draft assessments (never published, not archived) are no columns and
//!   count nowhere, even if a grade was set for one; archived ones stay.

use std::collections::BTreeMap;

use lectern_storage::{Record, abort};
use serde::{Deserialize, Serialize};

use super::{GradeEntry, GradeStatus, actor, validate_item};
use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::{Assessments, Principal};
use lectern_domain::model::CourseRole;
use lectern_identity::validate_name;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub id: String,
    pub name: String,
    /// Percent of the course total; a course's weights add up to 100.
    pub weight: f64,
    /// Gradebook items (assessment ids) in this category, in column order.
    pub items: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeCategories {
    pub institution: InstitutionId,
    pub course: CourseId,
    pub categories: Vec<Category>,
    pub version: u64,
    pub updated_at: i64,
    pub updated_by: String,
}

impl Record for GradeCategories {
    const VERSION: u8 = 1;
}

/// One gradebook column.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Column {
    pub item: String,
    /// The assessment's title, or the item id for other items (the kernel facade
    /// names outline items by their title: `lectern_core::Kernel::course_gradebook`).
    pub title: String,
    pub category: Option<String>,
    /// Which attempts make an assessment's grade; `None` for other items.
    pub grading_method: Option<crate::assessments::GradingMethod>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    pub points: f64,
    pub max_points: f64,
    pub status: GradeStatus,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CategoryTotal {
    pub category: String,
    /// Graded points and their maximum.
    pub points: f64,
    pub max_points: f64,
    /// `None` while nothing in the category is graded.
    pub percent: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StudentRow {
    pub student: UserId,
    pub name: String,
    pub email: String,
    pub grades: BTreeMap<String, Cell>,
    pub categories: Vec<CategoryTotal>,
    /// Percent; `None` while nothing that counts is graded.
    pub total: Option<f64>,
}

/// The course's gradebook as a table: one row per student.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CourseGradebook {
    pub course_code: String,
    pub columns: Vec<Column>,
    pub categories: Vec<Category>,
    pub students: Vec<StudentRow>,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Category totals and the course total for one student's grades by item.
pub fn student_totals(categories: &[Category], grades: &BTreeMap<String, Cell>) -> (Vec<CategoryTotal>, Option<f64>) {
    let counted = |items: &mut dyn Iterator<Item = &String>| -> (f64, f64) {
        items
            .filter_map(|i| grades.get(i))
            .filter(|c| c.status == GradeStatus::Graded)
            .fold((0.0, 0.0), |(p, m), c| (p + c.points, m + c.max_points))
    };
    if categories.is_empty() {
        let (p, m) = counted(&mut grades.keys());
        return (vec![], (m > 0.0).then(|| round2(p / m * 100.0)));
    }
    let mut out = vec![];
    let (mut weighted, mut weights) = (0.0, 0.0);
    for c in categories {
        let (p, m) = counted(&mut c.items.iter());
        let percent = (m > 0.0).then(|| p / m * 100.0);
        if let Some(pc) = percent {
            weighted += c.weight * pc;
            weights += c.weight;
        }
        out.push(CategoryTotal {
            category: c.id.clone(),
            points: super::round4(p),
            max_points: super::round4(m),
            percent: percent.map(round2),
        });
    }
    (out, (weights > 0.0).then(|| round2(weighted / weights)))
}

fn check_categories(categories: &[Category]) -> Result<Vec<Category>, CoreError> {
    if categories.len() > 50 {
        return Err(CoreError::invalid("categories", "at most 50 categories"));
    }
    let mut ids = std::collections::HashSet::new();
    let mut items = std::collections::HashSet::new();
    let mut out = vec![];
    for c in categories {
        validate_item(&c.id)
            .map_err(|_| CoreError::invalid("categories.id", "1–128 letters, digits, `.`, `_` or `-`"))?;
        if !ids.insert(c.id.as_str()) {
            return Err(CoreError::invalid("categories.id", format!("`{}` appears twice", c.id)));
        }
        let name = validate_name("categories.name", &c.name, 200)?;
        if !c.weight.is_finite() || !(0.0..=100.0).contains(&c.weight) {
            return Err(CoreError::invalid("categories.weight", format!("`{}`: between 0 and 100", c.id)));
        }
        for i in &c.items {
            validate_item(i)?;
            if !items.insert(i.as_str()) {
                return Err(CoreError::invalid("categories.items", format!("`{i}` is in more than one category")));
            }
        }
        out.push(Category { id: c.id.clone(), name, weight: c.weight, items: c.items.clone() });
    }
    if items.len() > 2_000 {
        return Err(CoreError::invalid("categories.items", "at most 2,000 items"));
    }
    let sum: f64 = categories.iter().map(|c| c.weight).sum();
    if !categories.is_empty() && (sum - 100.0).abs() > 1e-6 {
        return Err(CoreError::invalid("categories.weight", format!("the weights add up to {sum}, not 100")));
    }
    Ok(out)
}

impl Assessments {
    /// The course's grade categories (anyone who can see the course).
    pub fn grade_categories(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<Option<GradeCategories>, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseView, ctx)?;
        Ok(self.t().grade_categories.get(crate::keys::inst_course(inst, course))?)
    }

    /// Replaces the course's grade categories (`course:edit`); `if_version`
    /// refuses the change when someone else changed them since.
    pub async fn set_grade_categories(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        categories: Vec<Category>,
        if_version: Option<u64>,
    ) -> Result<GradeCategories, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        let categories = check_categories(&categories)?;
        let key = crate::keys::inst_course(inst, course);
        let (t, now, by) = (self.t(), self.now(), actor(p));
        let saved = self.store().transaction(&[&t.grade_categories], |tx| {
            let tree = tx.on(&t.grade_categories)?;
            let current = tree.get(&key)?.map_or(0, |c| c.version);
            if if_version.is_some_and(|v| v != current) {
                return abort(CoreError::PreconditionFailed { current });
            }
            let c = GradeCategories {
                institution: inst,
                course,
                categories: categories.clone(),
                version: current + 1,
                updated_at: now,
                updated_by: by.clone(),
            };
            tree.insert(&key, &c)?;
            Ok(c)
        })?;
        self.durable().await?;
        Ok(saved)
    }

    /// The gradebook as a table (instructors, TAs): every student of the
    /// course, one column per item (categorised items first, in category
    /// order, then the course's other assessments, then any other graded
    /// item), category totals and the course total.
    pub fn course_gradebook(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<CourseGradebook, CoreError> {
        let (c, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::GradeViewAll, ctx)?;
        let prefix = crate::keys::inst_course(inst, course);
        let categories = self.t().grade_categories.get(&prefix)?.map(|c| c.categories).unwrap_or_default();
        let mut titles = BTreeMap::new();
        let mut order = vec![];
        let mut drafts = std::collections::BTreeSet::new();
        for row in self.t().assessments.scan_prefix(&prefix) {
            let (_, a) = row?;
            if a.is_draft() {
                drafts.insert(a.id);
                continue;
            }
            titles.insert(a.id.clone(), (a.title.clone(), a.settings.grading_method));
            order.push(a.id);
        }
        let mut by_student: BTreeMap<UserId, BTreeMap<String, Cell>> = BTreeMap::new();
        let mut graded_items = std::collections::BTreeSet::new();
        for row in self.t().grades.scan_prefix(&prefix) {
            let (_, g): (_, GradeEntry) = row?;
            if drafts.contains(&g.item) {
                continue;
            }
            graded_items.insert(g.item.clone());
            by_student
                .entry(g.student)
                .or_default()
                .insert(g.item, Cell { points: g.points, max_points: g.max_points, status: g.status });
        }
        let mut columns: Vec<Column> = vec![];
        let mut push = |item: &str, category: Option<&str>| {
            if !drafts.contains(item) && !columns.iter().any(|c| c.item == item) {
                let (title, grading_method) = match titles.get(item) {
                    Some((t, m)) => (format!("{t} ({item})"), Some(*m)),
                    None => (item.to_string(), None),
                };
                columns.push(Column {
                    item: item.to_string(),
                    title,
                    category: category.map(str::to_string),
                    grading_method,
                });
            }
        };
        for cat in &categories {
            for i in &cat.items {
                push(i, Some(&cat.id));
            }
        }
        for i in order.iter().chain(graded_items.iter()) {
            push(i, None);
        }
        let mut students = vec![];
        for e in self.identity().course_enrolments(inst, course)? {
            if e.role != CourseRole::Student {
                continue;
            }
            let Ok(u) = self.identity().load_user(inst, e.user) else { continue };
            let grades = by_student.remove(&e.user).unwrap_or_default();
            let (cats, total) = student_totals(&categories, &grades);
            students.push(StudentRow { student: u.id, name: u.name, email: u.email, grades, categories: cats, total });
        }
        students.sort_by(|a, b| (&a.name, &a.email).cmp(&(&b.name, &b.email)));
        Ok(CourseGradebook { course_code: c.code, columns, categories, students })
    }
}

/// The file name a gradebook's CSV is downloaded as (`gradebook-<code>.csv`).
pub fn csv_file_name(g: &CourseGradebook) -> String {
    let code: String =
        g.course_code.chars().filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).take(64).collect();
    if code.is_empty() { "gradebook.csv".to_string() } else { format!("gradebook-{code}.csv") }
}

/// One CSV field: RFC 4180 quoting, and a `'` before a leading `=`, `+`,
/// `-`, `@`, tab or carriage return, so a spreadsheet never runs a cell as a formula.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\r', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn number(x: Option<f64>) -> String {
    x.map(|x| format!("{}", super::round4(x))).unwrap_or_default()
}

/// The gradebook as CSV (RFC 4180, CRLF line ends): a header row, then one
/// row per student — name, email, id, each item's points (empty unless
/// graded), each category's percent, the course total percent.
pub fn to_csv(g: &CourseGradebook) -> String {
    let mut header = vec!["Student".to_string(), "Email".into(), "Student ID".into()];
    header.extend(g.columns.iter().map(|c| c.title.clone()));
    header.extend(g.categories.iter().map(|c| format!("{} (%)", c.name)));
    header.push("Course total (%)".into());
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    };
    line(header);
    for s in &g.students {
        let mut row = vec![s.name.clone(), s.email.clone(), s.student.to_string()];
        for c in &g.columns {
            let cell = s.grades.get(&c.item).filter(|x| x.status == GradeStatus::Graded);
            row.push(number(cell.map(|x| x.points)));
        }
        row.extend(s.categories.iter().map(|c| number(c.percent)));
        row.push(number(s.total));
        line(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(points: f64, max: f64, status: GradeStatus) -> Cell {
        Cell { points, max_points: max, status }
    }

    fn cat(id: &str, weight: f64, items: &[&str]) -> Category {
        Category { id: id.into(), name: id.into(), weight, items: items.iter().map(|s| s.to_string()).collect() }
    }

    fn check(categories: &[Category], grades: &[(&str, Cell)], per_category: &[Option<f64>], total: Option<f64>) {
        let grades: BTreeMap<String, Cell> = grades.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let (cats, t) = student_totals(categories, &grades);
        assert_eq!(cats.iter().map(|c| c.percent).collect::<Vec<_>>(), per_category);
        assert_eq!(t, total);
    }

    #[test]
    fn totals_weight_categories_and_exclude_what_is_not_graded() {
        use GradeStatus::*;
        let cats = [cat("quizzes", 40.0, &["q1", "q2"]), cat("exam", 60.0, &["final"])];
        // 15/20 = 75 %, 40/50 = 80 %: 0.4 × 75 + 0.6 × 80 = 78.
        check(
            &cats,
            &[("q1", cell(5.0, 10.0, Graded)), ("q2", cell(10.0, 10.0, Graded)), ("final", cell(40.0, 50.0, Graded))],
            &[Some(75.0), Some(80.0)],
            Some(78.0),
        );
        // Points-weighted within a category: 2 of 2 and 0 of 18 are 2 of 20 (10 %), not the mean of 100 % and 0 %.
        check(
            &cats,
            &[("q1", cell(2.0, 2.0, Graded)), ("q2", cell(0.0, 18.0, Graded))],
            &[Some(10.0), None],
            Some(10.0),
        );
        // The final is not graded yet: the quizzes fill the total; waiting and failed grades do not count.
        check(
            &cats,
            &[
                ("q1", cell(5.0, 10.0, Graded)),
                ("q2", cell(3.0, 10.0, NeedsManualGrading)),
                ("final", cell(0.0, 50.0, GradingFailed)),
            ],
            &[Some(50.0), None],
            Some(50.0),
        );
        check(&cats, &[], &[None, None], None);
        // Outside every category: listed, not counted.
        check(&cats, &[("extra", cell(1.0, 1.0, Graded))], &[None, None], None);
        // Without categories: all graded points.
        check(&[], &[("a", cell(1.0, 4.0, Graded)), ("b", cell(2.0, 2.0, Graded))], &[], Some(50.0));
        check(&[], &[("a", cell(1.0, 3.0, Graded))], &[], Some(33.33));
    }

    #[test]
    fn categories_are_checked() {
        assert!(check_categories(&[cat("a", 40.0, &["x"]), cat("b", 60.0, &[])]).is_ok());
        assert!(check_categories(&[]).is_ok());
        let bad = [
            (vec![cat("a", 40.0, &[]), cat("b", 50.0, &[])], "add up to 90"),
            (vec![cat("a", 50.0, &["x"]), cat("b", 50.0, &["x"])], "more than one category"),
            (vec![cat("a", 50.0, &[]), cat("a", 50.0, &[])], "twice"),
            (vec![cat("a", f64::NAN, &[])], "between 0 and 100"),
            (vec![cat("a b", 100.0, &[])], "letters"),
        ];
        for (c, msg) in bad {
            let e = check_categories(&c).unwrap_err().to_string();
            assert!(e.contains(msg), "{e}");
        }
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        for (input, expected) in [
            ("plain", "plain"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("=HYPERLINK(\"x\",\"y\")", "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""),
            ("", ""),
        ] {
            assert_eq!(field(input), expected, "{input}");
        }
        assert_eq!(number(Some(2.0)), "2");
        assert_eq!(number(Some(8.33333)), "8.3333");
        assert_eq!(number(None), "");
    }
}

//! Training (§7.1–7.2) and making the rules known (§7.3): plans and their
//! items, question banks and the automatic scoring of answers, sessions,
//! and policy publications with their acknowledgements.

use procedo_platform::person::Person;
use procedo_platform::time::Millis;
use serde::{Deserialize, Serialize};

use super::directory::Audience;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    Lecture,
    Online,
    Practice,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    pub id: String,
    pub title: String,
    pub content: String,
    pub method: Method,
    pub schedule: String,
    pub audience: Audience,
    pub trainer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub year: i32,
    pub title: String,
    pub items: Vec<PlanItem>,
    pub creator: Person,
    pub created_at: Millis,
}

impl Plan {
    pub fn resource(&self) -> String {
        format!("trainingPlans/{}", self.id)
    }

    pub fn item(&self, id: &str) -> Option<&PlanItem> {
        self.items.iter().find(|i| i.id == id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuestionKind {
    SingleChoice,
    MultipleChoice,
    TrueFalse,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub kind: QuestionKind,
    pub text: String,
    /// For true/false: "true", "false".
    pub options: Vec<String>,
    /// The right options' indexes, sorted.
    pub correct: Vec<usize>,
}

impl Question {
    /// What is wrong with it, if anything.
    pub fn problem(&self) -> Option<String> {
        let n = self.options.len();
        if !(2..=10).contains(&n) {
            return Some("give 2 to 10 options".into());
        }
        if self.correct.iter().any(|c| *c >= n) {
            return Some(format!("a correct answer is not one of the {n} options"));
        }
        match (self.kind, self.correct.len()) {
            (QuestionKind::MultipleChoice, 0) => Some("name at least one correct option".into()),
            (QuestionKind::SingleChoice | QuestionKind::TrueFalse, 1)
            | (QuestionKind::MultipleChoice, _) => None,
            _ => {
                Some("a single-choice or true/false question has exactly one correct option".into())
            }
        }
    }

    /// Whether `chosen` is exactly its right options.
    pub fn is_right(&self, chosen: &[usize]) -> bool {
        let mut chosen = chosen.to_vec();
        chosen.sort_unstable();
        chosen.dedup();
        chosen == self.correct
    }
}

/// The score (0–100, rounded down) of `answers` to `questions`; the
/// answers must be one per question.
pub fn score(questions: &[Question], answers: &[Vec<usize>]) -> i32 {
    if questions.is_empty() {
        return 100;
    }
    let right = questions
        .iter()
        .zip(answers)
        .filter(|(q, a)| q.is_right(a))
        .count();
    i32::try_from(right * 100 / questions.len()).unwrap_or(0)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionBank {
    pub id: String,
    pub title: String,
    pub questions: Vec<Question>,
}

impl QuestionBank {
    pub fn resource(&self) -> String {
        format!("questionBanks/{}", self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exam {
    pub bank_id: String,
    pub pass_mark: i32,
    pub max_attempts: i32,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub plan_id: String,
    pub item_id: String,
    pub title: String,
    pub start: Millis,
    pub end: Millis,
    pub location: String,
    pub trainer: String,
    pub audience: Audience,
    pub materials: Vec<String>,
    pub exam: Option<Exam>,
    pub practical: bool,
    pub created_at: Millis,
}

impl Session {
    pub fn resource(&self) -> String {
        format!("trainingSessions/{}", self.id)
    }
}

/// A policy publication (§7.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    pub id: String,
    /// "documents/{id}".
    pub document: String,
    pub version: i32,
    pub title: String,
    pub audience: Audience,
    pub quiz: Vec<Question>,
    pub pass_mark: i32,
    pub acknowledge_by: Millis,
    pub active: bool,
    pub supersedes: String,
    pub superseded_by: String,
    pub published_by: Person,
    pub published_at: Millis,
    pub reminded_at: Option<Millis>,
}

impl Publication {
    pub fn resource(&self) -> String {
        format!("policyPublications/{}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(kind: QuestionKind, options: usize, correct: &[usize]) -> Question {
        Question {
            kind,
            text: "?".into(),
            options: (0..options).map(|i| i.to_string()).collect(),
            correct: correct.to_vec(),
        }
    }

    #[test]
    fn questions_are_checked_and_answers_scored_exactly() {
        assert!(q(QuestionKind::SingleChoice, 3, &[1]).problem().is_none());
        assert!(
            q(QuestionKind::SingleChoice, 3, &[0, 1])
                .problem()
                .is_some()
        );
        assert!(q(QuestionKind::MultipleChoice, 3, &[]).problem().is_some());
        assert!(q(QuestionKind::TrueFalse, 2, &[3]).problem().is_some());
        assert!(q(QuestionKind::SingleChoice, 1, &[0]).problem().is_some());

        let exam = [
            q(QuestionKind::SingleChoice, 3, &[1]),
            q(QuestionKind::MultipleChoice, 4, &[0, 2]),
            q(QuestionKind::TrueFalse, 2, &[0]),
        ];
        assert_eq!(score(&exam, &[vec![1], vec![2, 0], vec![0]]), 100);
        // A multiple choice half right is wrong.
        assert_eq!(score(&exam, &[vec![1], vec![0], vec![0]]), 66);
        assert_eq!(score(&exam, &[vec![0], vec![0, 2, 3], vec![1]]), 0);
    }
}

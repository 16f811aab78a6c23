//! `org.example.flashcards`: an example *activity* plugin
//! (`lectern:plugin@0.2.0`, world `activity-plugin`). It adds the kind
//! `flashcards`: a deck the instructor writes,
//!
//! ```json
//! { "cards": [ { "front": "Chlorophyll", "back": "The green pigment that absorbs light" } ],
//!   "mastery_box": 3 }
//! ```
//!
//! which each learner reviews with spaced repetition (Leitner boxes): a card
//! starts in box 1; "I knew it" moves it up a box, "Again" back to box 1; the
//! next card shown is the one in the lowest box, least recently seen. A card
//! in `mastery_box` (default 3) or higher is mastered. After every answer the
//! plugin records the learner's mastery as a score (mastered cards out of
//! all) through the kernel's `gradebook`, and marks the item complete when
//! every card is mastered.
//!
//! The learner's state (boxes, what was last seen, whether the current card
//! is turned over) lives in the kernel, versioned, as this plugin's JSON:
//! it is backed up, exported and erased with the learner's other data, and
//! the kernel retries an action that raced another on the same state.

wit_bindgen::generate!({
    path: "../../../wit/lectern-plugin@0.2.0",
    world: "activity-plugin",
    generate_all,
});

use exports::lectern::plugin::activity::{self, Action, ActivityKind, Item, LearnerState, Outcome};
use exports::lectern::plugin::lifecycle::{self, PluginInfo};
use lectern::plugin::gradebook::{self, Score};
use lectern::plugin::types::{Context, Error, EventContext, View};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

struct Plugin;

const KIND: &str = "flashcards";
const MAX_CARDS: usize = 200;
/// The deck icon, a static asset of the package (`assets/deck.svg`).
const DECK_ICON: &str = "deck.svg";

impl lifecycle::Guest for Plugin {
    fn info() -> PluginInfo {
        PluginInfo {
            id: "org.example.flashcards".into(),
            name: "Flashcards (example activity)".into(),
            version: "1.0.0".into(),
            data_version: 1,
        }
    }

    fn init() -> Result<(), Error> {
        Ok(())
    }

    fn migrate(_from: u32) -> Result<(), Error> {
        Ok(())
    }

    fn on_event(_ctx: EventContext, _payload: Vec<u8>) -> Result<(), Error> {
        Ok(())
    }
}

struct Card {
    front: String,
    back: String,
}

struct Deck {
    cards: Vec<Card>,
    mastery_box: u8,
}

fn invalid(m: impl Into<String>) -> Error {
    Error::InvalidInput(m.into())
}

fn deck(settings: &str) -> Result<Deck, Error> {
    let v: Value = serde_json::from_str(settings).map_err(|e| invalid(format!("the settings are not JSON: {e}")))?;
    let cards: Vec<Card> = v
        .get("cards")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| Card {
            front: c.get("front").and_then(Value::as_str).unwrap_or_default().to_owned(),
            back: c.get("back").and_then(Value::as_str).unwrap_or_default().to_owned(),
        })
        .collect();
    if cards.is_empty() {
        return Err(invalid("the deck has no cards"));
    }
    let mastery_box = v.get("mastery_box").and_then(Value::as_u64).unwrap_or(3).clamp(2, 5) as u8;
    Ok(Deck { cards, mastery_box })
}

/// One learner's progress through one deck.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Progress {
    /// Leitner box per card (1 = new or forgotten).
    boxes: Vec<u8>,
    /// Review counter when each card was last shown.
    seen: Vec<u32>,
    reviews: u32,
    current: usize,
    revealed: bool,
}

impl Progress {
    fn load(state: Option<&LearnerState>, cards: usize) -> Progress {
        let mut p: Progress = state.and_then(|s| serde_json::from_slice(&s.data).ok()).unwrap_or_default();
        // The instructor may have added or removed cards since: keep what still fits.
        p.boxes.resize(cards, 1);
        p.seen.resize(cards, 0);
        if p.current >= cards {
            p.current = 0;
            p.revealed = false;
        }
        p
    }

    fn mastered(&self, deck: &Deck) -> usize {
        self.boxes.iter().filter(|b| **b >= deck.mastery_box).count()
    }

    /// The card in the lowest box, least recently seen (ties: first in the deck).
    fn next(&mut self) {
        let pick = (0..self.boxes.len()).min_by_key(|&i| (self.boxes[i], self.seen[i], i)).unwrap_or(0);
        self.current = pick;
        self.revealed = false;
        self.reviews += 1;
        self.seen[pick] = self.reviews;
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn view(deck: &Deck, p: &Progress) -> View {
    let card = &deck.cards[p.current];
    let (mastered, total) = (p.mastered(deck), deck.cards.len());
    // `asset:deck.svg` is this package's `assets/deck.svg`: the kernel serves it
    // and points the image at it (an install without the package shows nothing).
    let mut html = format!(
        "<div class=\"flashcards\"><img class=\"deck\" src=\"asset:{DECK_ICON}\" alt=\"\" width=\"32\" height=\"32\">\
         <p class=\"progress\">{mastered} of {total} cards mastered</p>\
         <meter min=\"0\" max=\"{total}\" value=\"{mastered}\">{mastered} of {total}</meter>\
         <div class=\"card\"><p class=\"front\">{}</p>",
        escape(&card.front)
    );
    if p.revealed {
        html.push_str(&format!(
            "<p class=\"back\">{}</p></div><div class=\"actions\">\
             <button data-action=\"knew\">I knew it</button> <button data-action=\"again\">Again</button></div></div>",
            escape(&card.back)
        ));
    } else {
        html.push_str(
            "</div><div class=\"actions\"><button data-action=\"reveal\">Show the answer</button></div></div>",
        );
    }
    View { html, assets: vec![DECK_ICON.to_owned()] }
}

impl activity::Guest for Plugin {
    fn kinds() -> Vec<ActivityKind> {
        vec![ActivityKind {
            id: KIND.into(),
            name: "Flashcards".into(),
            description: "A deck of cards each learner reviews with spaced repetition; mastery is graded.".into(),
            settings_schema: json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "required": ["cards"],
                "additionalProperties": false,
                "properties": {
                    "cards": {
                        "type": "array", "minItems": 1, "maxItems": MAX_CARDS,
                        "items": {
                            "type": "object", "required": ["front", "back"], "additionalProperties": false,
                            "properties": {
                                "front": {"type": "string", "minLength": 1, "maxLength": 1000},
                                "back": {"type": "string", "minLength": 1, "maxLength": 2000}
                            }
                        }
                    },
                    "mastery_box": {"type": "integer", "minimum": 2, "maximum": 5,
                                    "description": "The box at which a card counts as mastered (default 3)."}
                }
            })
            .to_string(),
            graded: true,
        }]
    }

    fn render(_ctx: Context, item: Item, state: Option<LearnerState>) -> Result<View, Error> {
        let deck = deck(&item.settings)?;
        Ok(view(&deck, &Progress::load(state.as_ref(), deck.cards.len())))
    }

    fn render_settings(_ctx: Context, _kind: String, _settings: Option<String>) -> Result<Option<View>, Error> {
        // The kernel's form from the settings schema is enough.
        Ok(None)
    }

    fn act(ctx: Context, item: Item, state: Option<LearnerState>, action: Action) -> Result<Outcome, Error> {
        let deck = deck(&item.settings)?;
        let mut p = Progress::load(state.as_ref(), deck.cards.len());
        let before = p.mastered(&deck);
        let message = match action.name.as_str() {
            "reveal" => {
                p.revealed = true;
                None
            }
            "knew" | "again" if !p.revealed => return Err(invalid("turn the card over first")),
            "knew" => {
                let b = &mut p.boxes[p.current];
                *b = (*b + 1).min(5);
                p.next();
                None
            }
            "again" => {
                p.boxes[p.current] = 1;
                p.next();
                Some("Back to box 1: you will see it again soon.".to_owned())
            }
            other => return Err(invalid(format!("no action `{other}`"))),
        };
        let after = p.mastered(&deck);
        if action.name != "reveal" {
            let learner = ctx.user.clone().ok_or_else(|| invalid("a learner acts on flashcards"))?;
            let total = deck.cards.len();
            if after != before || p.reviews == 1 {
                gradebook::record_score(&Score {
                    learner: learner.clone(),
                    points: after as f64,
                    max_points: total as f64,
                    feedback: Some(format!("{after} of {total} cards mastered")),
                })?;
            }
            if after == total && before < total {
                gradebook::mark_complete(&learner)?;
            }
        }
        let state = serde_json::to_vec(&p).map_err(|e| Error::Internal(e.to_string()))?;
        let complete = (after == deck.cards.len()).then(|| "Every card mastered: the activity is complete.".to_owned());
        Ok(Outcome { state: Some(state), view: Some(view(&deck, &p)), message: complete.or(message) })
    }
}

export!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;

    fn deck3() -> Deck {
        let cards = (0..3).map(|i| Card { front: format!("f{i}"), back: format!("b{i}") }).collect();
        Deck { cards, mastery_box: 3 }
    }

    #[test]
    fn the_lowest_box_least_recently_seen_comes_next() {
        let d = deck3();
        let mut p = Progress::load(None, 3);
        assert_eq!(p.current, 0);
        p.boxes[0] = 2;
        p.next();
        assert_eq!(p.current, 1, "box 1 before box 2");
        p.next();
        assert_eq!(p.current, 2, "the least recently seen of box 1");
        p.boxes = vec![3, 3, 3];
        assert_eq!(p.mastered(&d), 3);
    }

    #[test]
    fn state_survives_a_changed_deck() {
        let mut p = Progress::load(None, 3);
        p.boxes = vec![2, 3, 4];
        p.current = 2;
        let s = LearnerState { data: serde_json::to_vec(&p).unwrap(), version: 4 };
        let fewer = Progress::load(Some(&s), 2);
        assert_eq!((fewer.boxes, fewer.current), (vec![2, 3], 0));
        let more = Progress::load(Some(&s), 4);
        assert_eq!(more.boxes, vec![2, 3, 4, 1]);
    }

    #[test]
    fn text_is_escaped() {
        let d = Deck { cards: vec![Card { front: "<b>x</b>".into(), back: "&".into() }], mastery_box: 3 };
        let v = view(&d, &Progress::load(None, 1));
        assert!(v.html.contains("&lt;b&gt;x&lt;/b&gt;") && !v.html.contains("<b>"));
    }
}

//! Arithmetic formulas over named variables: numbers, `+ - * / ^`,
//! parentheses, unary minus, the constants `pi` and `e`, and the functions
//! `sqrt`, `abs`, `exp`, `ln`, `log10`, `sin`, `cos`, `tan` (radians).
//! `^` binds tighter than unary minus on its left (`-2^2` is −4) and groups
//! to the right (`2^3^2` is 2⁹).

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Num(f64),
    Var(String),
    Neg(Box<Expr>),
    Bin(char, Box<Expr>, Box<Expr>),
    Call(String, Box<Expr>),
}

const FUNCTIONS: &[&str] = &["sqrt", "abs", "exp", "ln", "log10", "sin", "cos", "tan"];
/// Nesting deeper than this is refused (the recursion stays small).
const MAX_DEPTH: usize = 64;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(char),
}

fn tokens(src: &str) -> Result<Vec<Tok>, String> {
    let mut out = vec![];
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    i = j;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text = &src[start..i];
            out.push(Tok::Num(text.parse().map_err(|_| format!("`{text}` is not a number"))?));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(src[start..i].to_owned()));
        } else if "+-*/^()".contains(c) {
            out.push(Tok::Op(c));
            i += 1;
        } else {
            return Err(format!("unexpected `{}` in the formula", &src[i..].chars().next().unwrap_or(c)));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn eat(&mut self, op: char) -> bool {
        if self.peek() == Some(&Tok::Op(op)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH { Err("the formula is nested too deeply".into()) } else { Ok(()) }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        self.nest()?;
        let mut e = self.term()?;
        loop {
            let op = if self.eat('+') {
                '+'
            } else if self.eat('-') {
                '-'
            } else {
                break;
            };
            e = Expr::Bin(op, Box::new(e), Box::new(self.term()?));
        }
        self.depth -= 1;
        Ok(e)
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        loop {
            let op = if self.eat('*') {
                '*'
            } else if self.eat('/') {
                '/'
            } else {
                break;
            };
            e = Expr::Bin(op, Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat('-') {
            self.nest()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner)));
        }
        if self.eat('+') {
            return self.unary();
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, String> {
        let base = self.atom()?;
        if self.eat('^') {
            self.nest()?;
            let exp = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Bin('^', Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        match self.toks.get(self.at).cloned() {
            Some(Tok::Num(n)) => {
                self.at += 1;
                Ok(Expr::Num(n))
            }
            Some(Tok::Ident(name)) => {
                self.at += 1;
                if FUNCTIONS.contains(&name.as_str()) {
                    if !self.eat('(') {
                        return Err(format!("`{name}` needs parentheses: {name}(x)"));
                    }
                    let arg = self.expr()?;
                    if !self.eat(')') {
                        return Err(format!("`{name}(` is not closed"));
                    }
                    return Ok(Expr::Call(name, Box::new(arg)));
                }
                Ok(match name.as_str() {
                    "pi" => Expr::Num(std::f64::consts::PI),
                    "e" => Expr::Num(std::f64::consts::E),
                    _ => Expr::Var(name),
                })
            }
            Some(Tok::Op('(')) => {
                self.at += 1;
                let e = self.expr()?;
                if !self.eat(')') {
                    return Err("a `(` is not closed".into());
                }
                Ok(e)
            }
            Some(Tok::Op(c)) => Err(format!("unexpected `{c}` in the formula")),
            None => Err("the formula ends too early".into()),
        }
    }
}

pub fn parse(src: &str) -> Result<Expr, String> {
    let mut p = Parser { toks: tokens(src)?, at: 0, depth: 0 };
    let e = p.expr()?;
    if p.at != p.toks.len() {
        return Err("unexpected text after the end of the formula".into());
    }
    Ok(e)
}

impl Expr {
    /// The variables the formula uses.
    pub fn variables(&self, out: &mut Vec<String>) {
        match self {
            Expr::Num(_) => {}
            Expr::Var(v) => {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Expr::Neg(e) | Expr::Call(_, e) => e.variables(out),
            Expr::Bin(_, a, b) => {
                a.variables(out);
                b.variables(out);
            }
        }
    }

    pub fn eval(&self, vars: &BTreeMap<String, f64>) -> Result<f64, String> {
        Ok(match self {
            Expr::Num(n) => *n,
            Expr::Var(v) => *vars.get(v).ok_or_else(|| format!("the variable `{v}` has no value"))?,
            Expr::Neg(e) => -e.eval(vars)?,
            Expr::Bin(op, a, b) => {
                let (x, y) = (a.eval(vars)?, b.eval(vars)?);
                match op {
                    '+' => x + y,
                    '-' => x - y,
                    '*' => x * y,
                    '/' => x / y,
                    _ => x.powf(y),
                }
            }
            Expr::Call(f, e) => {
                let x = e.eval(vars)?;
                match f.as_str() {
                    "sqrt" => x.sqrt(),
                    "abs" => x.abs(),
                    "exp" => x.exp(),
                    "ln" => x.ln(),
                    "log10" => x.log10(),
                    "sin" => x.sin(),
                    "cos" => x.cos(),
                    _ => x.tan(),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(src: &str, vars: &[(&str, f64)]) -> f64 {
        let vars = vars.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        parse(src).unwrap().eval(&vars).unwrap()
    }

    #[test]
    fn precedence_and_functions() {
        assert_eq!(eval("1 + 2 * 3", &[]), 7.0);
        assert_eq!(eval("(1 + 2) * 3", &[]), 9.0);
        assert_eq!(eval("-2^2", &[]), -4.0);
        assert_eq!(eval("2^3^2", &[]), 512.0);
        assert_eq!(eval("d / t", &[("d", 120.0), ("t", 2.0)]), 60.0);
        assert_eq!(eval("sqrt(a^2 + b^2)", &[("a", 3.0), ("b", 4.0)]), 5.0);
        assert_eq!(eval("1.5e3 - 500", &[]), 1000.0);
        assert!((eval("sin(pi / 2)", &[]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn mistakes_are_named() {
        for (bad, says) in [
            ("1 +", "ends too early"),
            ("(1 + 2", "not closed"),
            ("1 $ 2", "unexpected `$`"),
            ("sqrt 4", "parentheses"),
            ("1 2", "after the end"),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
        assert!(parse(&deep).unwrap_err().contains("too deeply"));
    }
}

//! A pickle *interpreter* that never imports or executes anything.
//!
//! It runs the opcode stream of protocols 2–5 and builds a value graph in an arena:
//! `GLOBAL`/`STACK_GLOBAL` become symbolic [`Obj::Global`] nodes and `REDUCE`/`NEWOBJ`/`BUILD`
//! become symbolic [`Obj::Call`] nodes. Every global is checked against an allow-list the
//! moment it appears, so a hostile pickle (`os.system`, `builtins.eval`, ...) is rejected
//! as bad input; the later pandas layer only *interprets* the known calls.

use super::cursor::{long, utf8, Cursor};
use super::op;

/// Index of an object in [`Graph::objs`].
pub type Id = usize;

/// A stack slot: small scalars inline, everything else by reference into the arena.
#[derive(Debug, Clone, Copy)]
pub enum Val {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Ref(Id),
}

/// A heap object of the unpickled graph.
#[derive(Debug)]
pub enum Obj {
    /// A Python int that does not fit in i64 (only its size is kept).
    BigInt(usize),
    Str(String),
    /// A byte string, kept as a range of the input so large array buffers are not copied.
    Bytes(std::ops::Range<usize>),
    Tuple(Vec<Val>),
    List(Vec<Val>),
    Dict(Vec<(Val, Val)>),
    Set(Vec<Val>),
    /// `module.name`, never resolved.
    Global {
        module: String,
        name: String,
    },
    /// `func(*args)` from REDUCE, or `cls.__new__(cls, *args)` from NEWOBJ; `state` is
    /// what BUILD would pass to `__setstate__`.
    Call {
        func: Val,
        args: Val,
        state: Option<Val>,
    },
}

/// The result of running a pickle: the arena and the object STOP returned.
#[derive(Debug)]
pub struct Graph {
    pub objs: Vec<Obj>,
    pub root: Val,
    /// The pickle itself, which `Obj::Bytes` ranges point into.
    pub data: Vec<u8>,
    /// How many more values may be produced from the graph. Shared references let a tiny
    /// pickle describe an exponentially large value ("billion laughs"); real frames expand
    /// to about their own size, so the budget is a generous multiple of it.
    pub budget: std::cell::Cell<usize>,
}

impl Graph {
    /// The bytes of an `Obj::Bytes`.
    pub fn bytes(&self, r: &std::ops::Range<usize>) -> &[u8] {
        self.data.get(r.clone()).unwrap_or(&[])
    }

    pub fn get(&self, v: Val) -> Option<&Obj> {
        match v {
            Val::Ref(id) => self.objs.get(id),
            _ => None,
        }
    }
}

/// Why a pickle could not be run. `Forbidden` is kept apart so callers can say
/// "not a pandas DataFrame pickle".
#[derive(Debug)]
pub enum VmError {
    Forbidden(String),
    Corrupt(String),
}

struct Vm<'a> {
    objs: Vec<Obj>,
    stack: Vec<Val>,
    marks: Vec<usize>,
    /// MEMOIZE keys are dense (0, 1, 2, ...), so a Vec; PUT may use any key.
    memo: Vec<Option<Val>>,
    /// Number of keys set, which is what MEMOIZE uses as its key (Python's `len(memo)`).
    memo_len: usize,
    allowed: &'a dyn Fn(&str, &str) -> bool,
}

impl Vm<'_> {
    fn push_obj(&mut self, o: Obj) {
        self.objs.push(o);
        self.stack.push(Val::Ref(self.objs.len() - 1));
    }
    fn pop(&mut self) -> Result<Val, VmError> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return Err(VmError::Corrupt("stack underflow (pop past a MARK)".into()));
        }
        self.stack
            .pop()
            .ok_or_else(|| VmError::Corrupt("stack underflow".into()))
    }
    fn top(&self) -> Result<Val, VmError> {
        self.stack
            .last()
            .copied()
            .ok_or_else(|| VmError::Corrupt("stack underflow".into()))
    }
    fn pop_mark(&mut self) -> Result<Vec<Val>, VmError> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| VmError::Corrupt("missing MARK".into()))?;
        if m > self.stack.len() {
            return Err(VmError::Corrupt("MARK beyond the stack".into()));
        }
        Ok(self.stack.split_off(m))
    }
    fn global(&mut self, module: String, name: String) -> Result<(), VmError> {
        if !(self.allowed)(&module, &name) {
            return Err(VmError::Forbidden(format!("{module}.{name}")));
        }
        self.push_obj(Obj::Global { module, name });
        Ok(())
    }
    fn str_of(&self, v: Val) -> Result<String, VmError> {
        match v {
            Val::Ref(id) => match self.objs.get(id) {
                Some(Obj::Str(s)) => Ok(s.clone()),
                _ => Err(VmError::Corrupt("STACK_GLOBAL needs two strings".into())),
            },
            _ => Err(VmError::Corrupt("STACK_GLOBAL needs two strings".into())),
        }
    }
    fn memo_get(&self, k: u64) -> Result<Val, VmError> {
        usize::try_from(k)
            .ok()
            .and_then(|k| self.memo.get(k).copied().flatten())
            .ok_or_else(|| VmError::Corrupt(format!("memo key {k} used before it was set")))
    }
    fn memo_put(&mut self, k: u64) -> Result<(), VmError> {
        let v = self.top()?;
        let k = usize::try_from(k)
            .ok()
            .filter(|&k| k <= self.memo.len() + (1 << 20))
            .ok_or_else(|| VmError::Corrupt(format!("memo key {k} is implausibly large")))?;
        if k >= self.memo.len() {
            self.memo.resize(k + 1, None);
        }
        if self.memo[k].replace(v).is_none() {
            self.memo_len += 1;
        }
        Ok(())
    }
    /// Extends the list (or set) at `target` with `items`.
    fn extend(&mut self, target: Val, items: Vec<Val>) -> Result<(), VmError> {
        match target {
            Val::Ref(id) => match self.objs.get_mut(id) {
                Some(Obj::List(l)) | Some(Obj::Set(l)) => {
                    l.extend(items);
                    Ok(())
                }
                _ => Err(VmError::Corrupt(
                    "APPEND(S) onto something that is not a list".into(),
                )),
            },
            _ => Err(VmError::Corrupt(
                "APPEND(S) onto something that is not a list".into(),
            )),
        }
    }
    fn set_items(&mut self, target: Val, items: Vec<Val>) -> Result<(), VmError> {
        if items.len() % 2 != 0 {
            return Err(VmError::Corrupt(
                "SETITEMS with an odd number of items".into(),
            ));
        }
        match target {
            Val::Ref(id) => match self.objs.get_mut(id) {
                Some(Obj::Dict(d)) => {
                    d.extend(items.chunks(2).map(|p| (p[0], p[1])));
                    Ok(())
                }
                _ => Err(VmError::Corrupt(
                    "SETITEM(S) onto something that is not a dict".into(),
                )),
            },
            _ => Err(VmError::Corrupt(
                "SETITEM(S) onto something that is not a dict".into(),
            )),
        }
    }
}

/// Runs the pickle in `data`, accepting only globals for which `allowed(module, name)` holds.
pub fn run(data: Vec<u8>, allowed: &dyn Fn(&str, &str) -> bool) -> Result<Graph, VmError> {
    let (objs, root) = interpret(&data, allowed)?;
    let budget = std::cell::Cell::new(data.len().saturating_mul(64).saturating_add(10_000_000));
    Ok(Graph {
        objs,
        root,
        data,
        budget,
    })
}

fn interpret(
    data: &[u8],
    allowed: &dyn Fn(&str, &str) -> bool,
) -> Result<(Vec<Obj>, Val), VmError> {
    let mut c = Cursor { data, pos: 0 };
    let mut vm = Vm {
        objs: Vec::new(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Vec::new(),
        memo_len: 0,
        allowed,
    };
    loop {
        let at = c.pos;
        if at >= data.len() {
            return Err(VmError::Corrupt(format!(
                "the file ends early at byte {at} without a STOP opcode (truncated?)"
            )));
        }
        let code = c.u8()?;
        match code {
            op::PROTO => {
                let proto = c.u8()?;
                if proto > 5 {
                    return Err(VmError::Corrupt(format!(
                        "unsupported pickle protocol {proto}"
                    )));
                }
            }
            op::FRAME => {
                c.le::<8>()?; // only a read-ahead hint
            }
            op::STOP => {
                let root = vm.pop()?;
                return Ok((vm.objs, root));
            }
            op::MARK => vm.marks.push(vm.stack.len()),
            op::POP => {
                vm.pop()?;
            }
            op::POP_MARK => {
                vm.pop_mark()?;
            }
            op::DUP => {
                let t = vm.top()?;
                vm.stack.push(t);
            }
            op::NONE => vm.stack.push(Val::None),
            op::NEWTRUE => vm.stack.push(Val::Bool(true)),
            op::NEWFALSE => vm.stack.push(Val::Bool(false)),
            op::BININT => vm
                .stack
                .push(Val::Int(i32::from_le_bytes(c.le::<4>()?) as i64)),
            op::BININT1 => vm.stack.push(Val::Int(c.u8()? as i64)),
            op::BININT2 => vm
                .stack
                .push(Val::Int(u16::from_le_bytes(c.le::<2>()?) as i64)),
            op::INT => {
                let l = c.line()?;
                let v = match l {
                    "01" => Val::Bool(true),
                    "00" => Val::Bool(false),
                    _ => Val::Int(
                        l.parse()
                            .map_err(|_| VmError::Corrupt(format!("bad INT argument {l:?}")))?,
                    ),
                };
                vm.stack.push(v);
            }
            op::LONG1 | op::LONG4 => {
                let n = if code == op::LONG1 {
                    c.u8()? as usize
                } else {
                    c.len4()?
                };
                let b = c.take(n)?;
                match long(b) {
                    Some(v) => vm.stack.push(Val::Int(v)),
                    None => vm.push_obj(Obj::BigInt(n)),
                }
            }
            op::BINFLOAT => vm.stack.push(Val::Float(f64::from_be_bytes(c.le::<8>()?))),
            op::FLOAT => {
                let l = c.line()?;
                let v = l
                    .trim()
                    .parse()
                    .map_err(|_| VmError::Corrupt(format!("bad FLOAT argument {l:?}")))?;
                vm.stack.push(Val::Float(v));
            }
            op::BINUNICODE | op::SHORT_BINUNICODE | op::BINUNICODE8 => {
                let n = match code {
                    op::BINUNICODE => c.len4()?,
                    op::SHORT_BINUNICODE => c.u8()? as usize,
                    _ => c.len8()?,
                };
                let s = utf8(c.take(n)?)?;
                vm.push_obj(Obj::Str(s));
            }
            // Python 2 str (BINSTRING, SHORT_BINSTRING) is kept as bytes too.
            op::BINBYTES
            | op::BINSTRING
            | op::SHORT_BINBYTES
            | op::SHORT_BINSTRING
            | op::BINBYTES8
            | op::BYTEARRAY8 => {
                let n = match code {
                    op::BINBYTES | op::BINSTRING => c.len4()?,
                    op::SHORT_BINBYTES | op::SHORT_BINSTRING => c.u8()? as usize,
                    _ => c.len8()?,
                };
                let start = c.pos;
                c.take(n)?;
                vm.push_obj(Obj::Bytes(start..start + n));
            }
            op::EMPTY_TUPLE => vm.push_obj(Obj::Tuple(Vec::new())),
            op::TUPLE => {
                let items = vm.pop_mark()?;
                vm.push_obj(Obj::Tuple(items));
            }
            op::TUPLE1..=op::TUPLE3 => {
                let n = usize::from(code - op::TUPLE1) + 1;
                if vm.stack.len() < n + vm.marks.last().copied().unwrap_or(0) {
                    return Err(VmError::Corrupt("stack underflow in TUPLEn".into()));
                }
                let items = vm.stack.split_off(vm.stack.len() - n);
                vm.push_obj(Obj::Tuple(items));
            }
            op::EMPTY_LIST => vm.push_obj(Obj::List(Vec::new())),
            op::LIST => {
                let items = vm.pop_mark()?;
                vm.push_obj(Obj::List(items));
            }
            op::APPEND => {
                let v = vm.pop()?;
                let l = vm.top()?;
                vm.extend(l, vec![v])?;
            }
            // ADDITEMS fills a set the way APPENDS fills a list.
            op::APPENDS | op::ADDITEMS => {
                let items = vm.pop_mark()?;
                let l = vm.top()?;
                vm.extend(l, items)?;
            }
            op::EMPTY_DICT => vm.push_obj(Obj::Dict(Vec::new())),
            op::DICT => {
                let items = vm.pop_mark()?;
                vm.push_obj(Obj::Dict(Vec::new()));
                let d = vm.top()?;
                vm.set_items(d, items)?;
            }
            op::SETITEM => {
                let v = vm.pop()?;
                let k = vm.pop()?;
                let d = vm.top()?;
                vm.set_items(d, vec![k, v])?;
            }
            op::SETITEMS => {
                let items = vm.pop_mark()?;
                let d = vm.top()?;
                vm.set_items(d, items)?;
            }
            op::EMPTY_SET => vm.push_obj(Obj::Set(Vec::new())),
            op::FROZENSET => {
                let items = vm.pop_mark()?;
                vm.push_obj(Obj::Set(items));
            }
            op::GLOBAL => {
                let module = c.line()?.to_string();
                let name = c.line()?.to_string();
                vm.global(module, name)?;
            }
            op::STACK_GLOBAL => {
                let name = vm.pop()?;
                let module = vm.pop()?;
                let (module, name) = (vm.str_of(module)?, vm.str_of(name)?);
                vm.global(module, name)?;
            }
            op::REDUCE | op::NEWOBJ | op::NEWOBJ_EX => {
                if code == op::NEWOBJ_EX {
                    vm.pop()?; // keyword arguments: no pandas class we accept needs them
                }
                let args = vm.pop()?;
                let func = vm.pop()?;
                vm.push_obj(Obj::Call {
                    func,
                    args,
                    state: None,
                });
            }
            op::BUILD => {
                let st = vm.pop()?;
                let target = vm.top()?;
                match target {
                    Val::Ref(id) => match vm.objs.get_mut(id) {
                        Some(Obj::Call { state, .. }) if state.is_none() => *state = Some(st),
                        _ => {
                            return Err(VmError::Corrupt(format!(
                                "BUILD at byte {at} on an object that cannot take state"
                            )))
                        }
                    },
                    _ => {
                        return Err(VmError::Corrupt(format!(
                            "BUILD at byte {at} on a plain value"
                        )))
                    }
                }
            }
            op::PUT | op::BINPUT | op::LONG_BINPUT | op::MEMOIZE => {
                let k = match code {
                    op::PUT => c
                        .line()?
                        .parse()
                        .map_err(|_| VmError::Corrupt("bad PUT".into()))?,
                    op::BINPUT => c.u8()? as u64,
                    op::LONG_BINPUT => c.len4()? as u64,
                    _ => vm.memo_len as u64,
                };
                vm.memo_put(k)?;
            }
            op::GET | op::BINGET | op::LONG_BINGET => {
                let k = match code {
                    op::GET => c
                        .line()?
                        .parse()
                        .map_err(|_| VmError::Corrupt("bad GET".into()))?,
                    op::BINGET => c.u8()? as u64,
                    _ => c.len4()? as u64,
                };
                let v = vm.memo_get(k)?;
                vm.stack.push(v);
            }
            op::NEXT_BUFFER | op::READONLY_BUFFER => {
                return Err(VmError::Corrupt(
                    "it uses out-of-band buffers (pickle protocol 5 buffer_callback)".into(),
                ))
            }
            op::PERSID | op::BINPERSID => {
                return Err(VmError::Forbidden("persistent ids (PERSID)".into()));
            }
            op::INST | op::OBJ | op::EXT1..=op::EXT4 => {
                return Err(VmError::Forbidden(format!(
                    "opcode 0x{code:02x} (INST/OBJ/EXT) at byte {at}"
                )));
            }
            // LONG, STRING and UNICODE (protocol 0 text forms) are never written by
            // `to_pickle`, and are refused like bytes that are no opcode at all.
            _ => {
                return Err(VmError::Corrupt(format!(
                    "unknown or unsupported opcode 0x{code:02x} at byte {at}"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_decoding() {
        assert_eq!(long(&[]), Some(0));
        assert_eq!(long(&[0xff]), Some(-1));
        assert_eq!(long(&[0x00, 0x01]), Some(256));
        assert_eq!(long(&[0xff; 9]), Some(-1));
        assert_eq!(long(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0]), None);
    }

    /// `pickle.dumps(C(), 4)` by CPython, for a class whose `__getnewargs_ex__` returns
    /// `((1,), {'k': 2})`: NEWOBJ_EX drops the keyword arguments and keeps the call.
    #[test]
    fn newobj_ex_keeps_class_and_positional_args() {
        let p = b"\x80\x04\x95!\x00\x00\x00\x00\x00\x00\x00\x8c\x08__main__\x94\x8c\x01C\x94\x93\x94K\x01\x85\x94}\x94\x8c\x01k\x94K\x02s\x92\x94.";
        let g = run(p.to_vec(), &|m, n| (m, n) == ("__main__", "C")).unwrap();
        let Some(Obj::Call { func, args, state }) = g.get(g.root) else {
            panic!("root is {:?}", g.root)
        };
        assert!(state.is_none());
        assert!(
            matches!(g.get(*func), Some(Obj::Global { module, name }) if module == "__main__" && name == "C")
        );
        assert!(
            matches!(g.get(*args), Some(Obj::Tuple(items)) if matches!(items[..], [Val::Int(1)]))
        );
    }

    #[test]
    fn rejects_forbidden_global_without_running_it() {
        let p = b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x04echo\x85R.";
        let r = run(p.to_vec(), &|_, _| false);
        assert!(matches!(r, Err(VmError::Forbidden(ref g)) if g == "os.system"));
    }
}

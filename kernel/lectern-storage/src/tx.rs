//! Multi-tree transactions.
//!
//! [`Store::transaction`] runs a closure over a declared set of trees with
//! serializable isolation; sled retries it on conflict, so the closure must be
//! free of outside side effects. The closure returns [`TxFail::Abort`] (via
//! [`abort`]) to roll back with a domain error.

use std::marker::PhantomData;

use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};

use crate::store::Codec;
use crate::{Record, StorageError, Store, Tree};

/// Why a transaction closure stopped.
#[derive(Debug)]
pub enum TxFail<E> {
    /// The domain decided to roll back.
    Abort(E),
    /// Storage failed underneath; opaque to the closure.
    Internal(TxInternal),
}

/// Shorthand for `Err(TxFail::Abort(e))`.
pub fn abort<T, E>(e: E) -> Result<T, TxFail<E>> {
    Err(TxFail::Abort(e))
}

#[derive(Debug)]
pub struct TxInternal(Internal);

#[derive(Debug)]
enum Internal {
    Sled(UnabortableTransactionError),
    Storage(StorageError),
}

impl<E> From<TxInternal> for TxFail<E> {
    fn from(i: TxInternal) -> Self {
        TxFail::Internal(i)
    }
}

/// How a transaction ended when it did not commit.
#[derive(Debug, thiserror::Error)]
pub enum TxError<E> {
    #[error("transaction aborted")]
    Aborted(E),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

enum Either<E> {
    User(E),
    Storage(StorageError),
}

/// The view a transaction closure gets.
pub struct Tx<'a> {
    trees: &'a [TransactionalTree],
    names: &'a [&'static str],
}

/// A typed tree inside a transaction.
pub struct TxTree<'a, T> {
    tree: &'a TransactionalTree,
    codec: Codec,
    _record: PhantomData<fn() -> T>,
}

impl<'a> Tx<'a> {
    /// The transactional view of `tree`, which must have been declared.
    pub fn on<T: Record>(&self, tree: &Tree<T>) -> Result<TxTree<'a, T>, TxInternal> {
        let index = self
            .names
            .iter()
            .position(|n| *n == tree.codec.name)
            .ok_or(TxInternal(Internal::Storage(StorageError::TreeNotInTransaction(tree.codec.name))))?;
        Ok(TxTree { tree: &self.trees[index], codec: tree.codec.clone(), _record: PhantomData })
    }
}

impl<T: Record> TxTree<'_, T> {
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<T>, TxInternal> {
        let key = key.as_ref();
        match self.tree.get(key).map_err(|e| TxInternal(Internal::Sled(e)))? {
            Some(b) => Ok(Some(self.codec.dec(key, &b).map_err(|e| TxInternal(Internal::Storage(e)))?)),
            None => Ok(None),
        }
    }

    pub fn insert(&self, key: impl AsRef<[u8]>, value: &T) -> Result<(), TxInternal> {
        let key = key.as_ref();
        self.tree.insert(key, self.codec.enc(key, value)).map_err(|e| TxInternal(Internal::Sled(e)))?;
        Ok(())
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> Result<Option<T>, TxInternal> {
        let key = key.as_ref();
        match self.tree.remove(key).map_err(|e| TxInternal(Internal::Sled(e)))? {
            Some(b) => Ok(Some(self.codec.dec(key, &b).map_err(|e| TxInternal(Internal::Storage(e)))?)),
            None => Ok(None),
        }
    }
}

impl Store {
    /// Runs `f` atomically over `trees`. Nothing is written unless `f` returns `Ok`.
    /// The commit is not yet durable: await [`Store::durable`] before acknowledging.
    pub fn transaction<R, E>(
        &self,
        trees: &[&dyn AnyTree],
        f: impl Fn(&Tx<'_>) -> Result<R, TxFail<E>>,
    ) -> Result<R, TxError<E>> {
        let sled_trees: Vec<sled::Tree> = trees.iter().map(|t| t.raw().clone()).collect();
        let names: Vec<&'static str> = trees.iter().map(|t| t.tree_name()).collect();
        let result = sled::Transactional::<Either<E>>::transaction(sled_trees.as_slice(), |views| {
            let tx = Tx { trees: views, names: &names };
            match f(&tx) {
                Ok(r) => Ok(r),
                Err(TxFail::Abort(e)) => Err(ConflictableTransactionError::Abort(Either::User(e))),
                Err(TxFail::Internal(TxInternal(Internal::Sled(UnabortableTransactionError::Conflict)))) => {
                    Err(ConflictableTransactionError::Conflict)
                }
                Err(TxFail::Internal(TxInternal(Internal::Sled(UnabortableTransactionError::Storage(e))))) => {
                    Err(ConflictableTransactionError::Storage(e))
                }
                Err(TxFail::Internal(TxInternal(Internal::Storage(e)))) => {
                    Err(ConflictableTransactionError::Abort(Either::Storage(e)))
                }
            }
        });
        match result {
            Ok(r) => Ok(r),
            Err(TransactionError::Abort(Either::User(e))) => Err(TxError::Aborted(e)),
            Err(TransactionError::Abort(Either::Storage(e))) => Err(TxError::Storage(e)),
            Err(TransactionError::Storage(e)) => Err(TxError::Storage(e.into())),
        }
    }
}

/// Object-safe view of a [`Tree`] for declaring a transaction's trees.
pub trait AnyTree {
    #[doc(hidden)]
    fn raw(&self) -> &sled::Tree;
    #[doc(hidden)]
    fn tree_name(&self) -> &'static str;
}

impl<T> AnyTree for Tree<T> {
    fn raw(&self) -> &sled::Tree {
        &self.tree
    }
    fn tree_name(&self) -> &'static str {
        self.codec.name
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, StoreOptions, TxError, abort};

    #[test]
    fn all_or_nothing_across_trees() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let a = s.tree::<u64>("a").unwrap();
        let b = s.tree::<String>("b").unwrap();

        let r: Result<(), TxError<&str>> = s.transaction(&[&a, &b], |tx| {
            tx.on(&a)?.insert(b"1", &1)?;
            tx.on(&b)?.insert(b"1", &"one".to_string())?;
            Ok(())
        });
        r.unwrap();

        let r: Result<(), TxError<&str>> = s.transaction(&[&a, &b], |tx| {
            tx.on(&a)?.insert(b"2", &2)?;
            if tx.on(&b)?.get(b"1")?.is_some() {
                return abort("exists");
            }
            Ok(())
        });
        assert!(matches!(r, Err(TxError::Aborted("exists"))));
        assert_eq!(a.get(b"2").unwrap(), None, "aborted write must not be visible");
        assert_eq!(a.get(b"1").unwrap(), Some(1));
    }

    #[test]
    fn undeclared_tree_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let a = s.tree::<u64>("a").unwrap();
        let b = s.tree::<u64>("b").unwrap();
        let r: Result<(), TxError<()>> = s.transaction(&[&a], |tx| {
            tx.on(&b)?.insert(b"x", &1)?;
            Ok(())
        });
        assert!(matches!(r, Err(TxError::Storage(crate::StorageError::TreeNotInTransaction("b")))));
    }
}

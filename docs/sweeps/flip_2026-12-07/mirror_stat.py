"""How far a data set's mirror images lie from its own (2026-12-07): for up to 10 000 pool
images, the distance (50 principal components) of each image's left-right mirror to its nearest
pool image, against each image's distance to its nearest other pool image. Prints the ratio of
the medians and the share of mirrors nearer than the original's neighbour, overall and per class
(the classes only to read the result). Output: mirror_stat.txt.

usage: PYTHONPATH=scripts:. python docs/sweeps/flip_2026-12-07/mirror_stat.py
"""
import sys, numpy as np
sys.path[:0]=['scripts','.']
from model_sweep import load
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors
for name in ["mnist","fashion60k","digits","glyphs"]:
    ds=load(name); X=np.asarray(ds.images, dtype=np.float32)
    if X.max()>1.5: X=X/255.
    rng=np.random.default_rng(0); idx=rng.choice(len(X), min(len(X),10000), replace=False)
    P=X[idx]; F=P[:,:,::-1,:]
    n=P.shape[0]; pf=P.reshape(n,-1); ff=F.reshape(n,-1)
    pca=PCA(50,random_state=0).fit(pf); a=pca.transform(pf); b=pca.transform(ff)
    nn=NearestNeighbors(n_neighbors=2).fit(a)
    d0=nn.kneighbors(a)[0][:,1]; d1=nn.kneighbors(b)[0][:,0]
    t=np.asarray(ds.truth)[idx]
    per=[np.median(d1[t==c])/np.median(d0[t==c]) for c in np.unique(t)]
    print(name, X.shape, "ratio median flip/orig NN dist %.3f"%(np.median(d1)/np.median(d0)), "share flip closer than orig's NN %.3f"%np.mean(d1<=d0), "per class", np.round(per,2))
